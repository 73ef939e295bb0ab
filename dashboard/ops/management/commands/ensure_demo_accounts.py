from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.ops.demo import ensure_demo_accounts


class Command(BaseCommand):
    help = "Create the demo accounts (demo mode only: DASHBOARD_DEMO=1)."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("Demo accounts are only created when DASHBOARD_DEMO=1.")
        for username in ensure_demo_accounts():
            self.stdout.write(f"Created demo account {username}")
