"""A failed job keeps its error's class name and transient flag (the explanation reads them)."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    # Jobs that gave up after retries failed on a transient error by definition; the class of
    # older failures is unknown and stays blank (the explanation then falls back to the status).
    job = apps.get_model("allocations", "AllocationJob")
    job.objects.filter(error_kind="retries").update(error_transient=True)


class Migration(migrations.Migration):
    dependencies = [("allocations", "0002_job_updated_at_index")]

    operations = [
        migrations.AddField(
            model_name="allocationjob",
            name="error_class",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="allocationjob",
            name="error_transient",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
