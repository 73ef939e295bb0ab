"""Names and folded search columns on audit rows (issue 16 item 2), pg_trgm indexes for them.

The backfill fills the folded columns of existing rows (ids, actor, reason, messages) and
their names from the directory tables when they exist, read by raw SQL: the audit app imports
no other app, and this migration does not depend on the directory's.
"""

import json

from django.db import migrations, models

from dashboard.audit.search import search_columns

TRIGRAM_COLUMNS = ("actor_search", "agent_search", "campaign_search", "search_text")
BATCH = 5000


def _names(connection, table: str) -> dict[str, str]:
    if table not in connection.introspection.table_names():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, name FROM {table}")  # noqa: S608 - fixed table names
        return dict(cursor.fetchall())


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    AuditEvent = apps.get_model("audit", "AuditEvent")
    agents = _names(connection, "directory_agent")
    campaigns = _names(connection, "directory_campaign")
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    last = 0
    while True:
        rows = list(
            AuditEvent.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk", "actor_username", "agent_ids", "roster_before", "roster_after",
                "campaign_ids_in", "campaign_ids_out", "reason", "message", "icws_message",
            )[:BATCH]
        )  # fmt: skip
        if not rows:
            return
        updates = []
        for pk, actor, a_ids, before, after, c_in, c_out, reason, message, icws in rows:
            agent_ids = list(dict.fromkeys([*a_ids, *before, *after]))
            campaign_ids = list(dict.fromkeys([*c_in, *c_out]))
            a_names = {a: agents[a] for a in agent_ids if a in agents}
            c_names = {c: campaigns[c] for c in campaign_ids if c in campaigns}
            cols = search_columns(
                actor_username=actor, agent_ids=agent_ids, campaign_ids=campaign_ids,
                agent_names=a_names, campaign_names=c_names, texts=(reason, message, icws),
            )  # fmt: skip
            updates.append([json.dumps(a_names), json.dumps(c_names), *cols.values(), pk])
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET agent_names = %s, campaign_names = %s, actor_search = %s, "  # noqa: S608
                "agent_search = %s, campaign_search = %s, search_text = %s WHERE id = %s",
                updates,
            )
        last = rows[-1][0]


def trigram_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return  # SQLite scans; its databases are small (embedded and tests)
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in TRIGRAM_COLUMNS:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS audit_trgm_{column} ON audit_auditevent "
                f"USING gin ({column} gin_trgm_ops)"
            )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for column in TRIGRAM_COLUMNS:
            cursor.execute(f"DROP INDEX IF EXISTS audit_trgm_{column}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chainer")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="agent_names",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="campaign_names",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="actor_search",
            field=models.CharField(blank=True, db_default="", max_length=150),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="agent_search",
            field=models.TextField(blank=True, db_default=""),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="campaign_search",
            field=models.TextField(blank=True, db_default=""),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="search_text",
            field=models.TextField(blank=True, db_default=""),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(trigram_indexes, drop_trigram_indexes),
    ]
