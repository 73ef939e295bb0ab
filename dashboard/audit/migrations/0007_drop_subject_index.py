"""The subject index table goes: since migration 0005 the agent and campaign filters and agent
history search the folded ``*_search`` columns on each row, and nothing read the index any more
except ``verify_audit``'s comparison of it with the rows. Hash format 4 hashes those columns
(and the names) themselves, so hiding a row from a filter now breaks the chain. The partial
index finds where rows of older formats end, which verify walks in Python."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0006_more_kinds"),
    ]

    operations = [
        migrations.DeleteModel(
            name="AuditSubject",
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("hash_version__lt", 4)),
                fields=["seq"],
                name="audit_old_format",
            ),
        ),
    ]
