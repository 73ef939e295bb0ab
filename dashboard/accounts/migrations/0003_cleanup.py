"""Agents' kept ICWS session tokens sealed at rest (``accounts.session_seal``).

Rows kept before are sealed in place, so a signed-in agent's page still works after the upgrade;
where no key is at hand (production with DASHBOARD_AUTH=local, where no new ones are kept) they
are deleted, and their CIC sessions end on their own. The clear columns go.
"""

from django.db import migrations, models


def seal_kept_sessions(apps, schema_editor):
    from dashboard.accounts import session_seal

    Row = apps.get_model("accounts", "AgentIcwsSession")
    if not session_seal.can_seal():
        Row.objects.all().delete()
        return
    for row in Row.objects.all().iterator():
        row.sealed = session_seal.seal(
            session_id=row.session_id, csrf_token=row.csrf_token, cookie=row.cookie
        )
        row.session_id = row.csrf_token = row.cookie = ""
        row.save(update_fields=["sealed", "session_id", "csrf_token", "cookie"])


def unseal_kept_sessions(apps, schema_editor):
    from dashboard.accounts import session_seal

    Row = apps.get_model("accounts", "AgentIcwsSession")
    for row in Row.objects.all().iterator():
        opened = session_seal.unseal(row.sealed) if session_seal.can_seal() else None
        if opened is None:
            row.delete()
            continue
        for field, value in opened.items():
            setattr(row, field, value)
        row.save(update_fields=list(opened))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_cic_sign_in")]

    operations = [
        migrations.AddField(
            model_name="agenticwssession",
            name="sealed",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.RunPython(seal_kept_sessions, unseal_kept_sessions),
        migrations.RemoveField(model_name="agenticwssession", name="session_id"),
        migrations.RemoveField(model_name="agenticwssession", name="csrf_token"),
        migrations.RemoveField(model_name="agenticwssession", name="cookie"),
    ]
