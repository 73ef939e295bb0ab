"""``manage.py icws_check``: read-only preflight against the configured CIC server."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.accounts import cic_signin
from dashboard.icws import new_client
from dashboard.ops.preflight import FAIL, SignInCheck, run_checks


class Command(BaseCommand):
    help = "Check the CIC server and service account the dashboard is configured for (read-only)."

    def handle(self, *args, **options):
        client = new_client(" (icws_check)")
        try:
            lines = run_checks(
                client,
                list(settings.ICWS_AGENT_WORKGROUPS),
                list(settings.ICWS_ALTERNATE_HOSTS),
                sign_in=SignInCheck(
                    mode=settings.DASHBOARD_AUTH,
                    user=settings.ICWS_CHECK_USER,
                    password=settings.ICWS_CHECK_PASSWORD,
                    connect=cic_signin.user_client,
                    map_roles=_map_roles,
                ),
            )
        finally:
            client.close()
        for line in lines:
            self.stdout.write(str(line))
        failed = sum(line.level == FAIL for line in lines)
        if failed:
            raise CommandError(f"{failed} check(s) failed")


def _map_roles(access):
    mapped = cic_signin.map_roles(access)
    return set(mapped.roles), mapped.is_agent
