"""The word checkpoints ``verify_audit`` signs after checking the filters' word list
(``audit.words_check``), so the next run checks only the rows added since. PostgreSQL only (the
word list is PostgreSQL's); a plain table read and written with SQL, not a model: nothing but
``verify_audit`` uses it."""

from django.db import migrations

CREATE = """
CREATE TABLE IF NOT EXISTS audit_word_checkpoint (
    id bigserial PRIMARY KEY,
    seq bigint NOT NULL,
    row_hash text NOT NULL,
    word_id bigint NOT NULL,
    words bigint NOT NULL,
    digest text NOT NULL,
    key_id text NOT NULL,
    hmac text NOT NULL,
    at timestamptz NOT NULL
)
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS audit_word_checkpoint")


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_words")]

    operations = [migrations.RunPython(forwards, backwards)]
