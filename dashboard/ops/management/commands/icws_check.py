"""``manage.py icws_check``: read-only preflight against the configured CIC server."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.icws import new_client
from dashboard.ops.preflight import FAIL, run_checks


class Command(BaseCommand):
    help = "Check the CIC server and service account the dashboard is configured for (read-only)."

    def handle(self, *args, **options):
        client = new_client(" (icws_check)")
        try:
            lines = run_checks(
                client, list(settings.ICWS_AGENT_WORKGROUPS), list(settings.ICWS_ALTERNATE_HOSTS)
            )
        finally:
            client.close()
        for line in lines:
            self.stdout.write(str(line))
        failed = sum(line.level == FAIL for line in lines)
        if failed:
            raise CommandError(f"{failed} check(s) failed")
