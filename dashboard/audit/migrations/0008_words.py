"""The filters' vocabulary (``AuditWord``) and word-array GIN indexes, on PostgreSQL.

A trigram index walks every trigram of the typed text, and ids such as ``agent01234`` or
``{c0040}`` share trigrams ("age", "{c0", " 00") with nearly every row, so a filter matching a
few hundred rows still walked posting lists of a million. Looking up the few words that contain
the text in a small table, then the rows holding one of them, walks only those rows' entries.
SQLite keeps the substring scan (``audit.selectors``); the table stays empty there.
"""

from django.db import migrations, models

from dashboard.audit.search import WORD_COLUMNS, rebuild_words

TRIGGER = """
CREATE OR REPLACE FUNCTION audit_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_auditword ("column", word)
    SELECT v.c, w
    FROM (VALUES ('agent_search', NEW.agent_search), ('campaign_search', NEW.campaign_search),
                 ('search_text', NEW.search_text)) AS v(c, t),
         unnest(string_to_array(v.t, ' ')) AS w
    WHERE w <> ''
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER audit_words AFTER INSERT OR UPDATE OF agent_search, campaign_search, search_text
    ON audit_auditevent FOR EACH ROW EXECUTE FUNCTION audit_words_add();
"""


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    assert set(WORD_COLUMNS) == {"agent_search", "campaign_search", "search_text"}  # TRIGGER
    with connection.cursor() as cursor:
        cursor.execute(TRIGGER)
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS audit_word_trgm ON audit_auditword "
            "USING gin (word gin_trgm_ops)"
        )
        for column in WORD_COLUMNS:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS audit_words_{column} ON audit_auditevent "
                f"USING gin (string_to_array({column}, ' '))"
            )
    rebuild_words(connection)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS audit_words ON audit_auditevent")
        cursor.execute("DROP FUNCTION IF EXISTS audit_words_add()")
        for column in WORD_COLUMNS:
            cursor.execute(f"DROP INDEX IF EXISTS audit_words_{column}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_drop_subject_index")]

    operations = [
        migrations.CreateModel(
            name="AuditWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("column", models.CharField(max_length=20)),
                ("word", models.TextField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("column", "word"), name="audit_word_unique")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
