"""The hash chain: seq, prev_hash and hash on every row (rows written before are chained here, in
id order), the chain head, the subject index, and PROTECT on the actor."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def chain_existing_rows(apps, schema_editor):
    from dashboard.audit.chain import content_of, row_hash

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    AuditSubject = apps.get_model("audit", "AuditSubject")
    prev, seq = "", 0
    for event in AuditEvent.objects.order_by("id").iterator():
        seq += 1
        event.seq = seq
        event.details = {}
        event.prev_hash = prev
        event.hash = row_hash(prev, {**content_of(event), "job_id": event.job_id})
        # The historical model has no append-only guard: this is the one-time backfill.
        event.save(update_fields=["seq", "details", "prev_hash", "hash"])
        prev = event.hash
        agents = dict.fromkeys([*event.agent_ids, *event.roster_before, *event.roster_after])
        campaigns = dict.fromkeys([*event.campaign_ids_in, *event.campaign_ids_out])
        AuditSubject.objects.bulk_create(
            [AuditSubject(event=event, kind="agent", subject_id=a) for a in agents]
            + [AuditSubject(event=event, kind="campaign", subject_id=c) for c in campaigns]
        )
    AuditChainHead.objects.create(pk=1, seq=seq, hash=prev)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.BigIntegerField(default=0)),
                ("hash", models.CharField(blank=True, max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="auditevent",
            name="details",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="auditevent", name="seq", field=models.BigIntegerField(null=True)
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64, default=""),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(max_length=64, default=""),
        ),
        migrations.CreateModel(
            name="AuditSubject",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("agent", "Agent"), ("campaign", "Campaign")], max_length=10
                    ),
                ),
                ("subject_id", models.CharField(max_length=200)),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="subjects",
                        to="audit.auditevent",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["kind", "subject_id", "event"], name="audit_subject")
                ]
            },
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent", name="seq", field=models.BigIntegerField(unique=True)
        ),
        migrations.AlterField(
            model_name="auditevent", name="hash", field=models.CharField(max_length=64)
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["-id"]}),
        migrations.AddIndex(
            model_name="auditevent", index=models.Index(fields=["kind", "id"], name="audit_kind_id")
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor_username", "id"], name="audit_actor_id"),
        ),
        migrations.AddIndex(
            model_name="auditevent", index=models.Index(fields=["job", "id"], name="audit_job_id")
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("requested", "Move requested"),
                    ("refused", "Move refused"),
                    ("started", "Move started"),
                    ("retry", "Retry scheduled"),
                    ("succeeded", "Move succeeded"),
                    ("failed", "Move failed"),
                    ("cancelled", "Move cancelled"),
                    ("roster_import", "Roster imported"),
                    ("archived", "Older entries archived"),
                ],
                db_index=True,
                max_length=20,
            ),
        ),
    ]
