"""A job's fencing token: raised at every take, checked by every write of a batch's outcome."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("allocations", "0003_job_error_class_transient")]

    operations = [
        migrations.AddField(
            model_name="allocationjob",
            name="lease_token",
            field=models.PositiveBigIntegerField(default=0),
        ),
    ]
