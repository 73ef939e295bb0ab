from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.directory.services import directory_sync
from dashboard.icws import get_client
from dashboard.ops.demo import roster_seed_from_simulator


class Command(BaseCommand):
    help = "Sync agents and campaigns from ICWS now (beat also does this periodically)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed-roster-from-simulator",
            action="store_true",
            help="demo mode only: take the roster from the simulator's /sim/state when empty",
        )

    def handle(self, *args, seed_roster_from_simulator: bool, **options):
        run = directory_sync(client=get_client())
        if not run.ok:
            raise CommandError(f"Sync failed: {run.error}")
        self.stdout.write(f"Synced {run.agents} agents and {run.campaigns} campaigns.")
        if seed_roster_from_simulator:
            if not settings.DEMO_MODE:
                raise CommandError("--seed-roster-from-simulator needs DASHBOARD_DEMO=1")
            seeded = roster_seed_from_simulator(settings.ICWS_BASE_URL)
            self.stdout.write(f"Roster seeded from the simulator for {seeded} agents.")
