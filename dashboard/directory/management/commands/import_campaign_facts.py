from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dashboard.directory.campaign_facts import COLUMNS, campaign_facts_import


class Command(BaseCommand):
    help = (
        "Record campaign facts ICWS does not give from a CSV file with a header row: "
        f"{', '.join(COLUMNS)} (campaign_id required; a column present sets that fact, an empty "
        "cell clears it). Every row is checked first; all or nothing; one audit row."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--as-user",
            default="",
            help="Dashboard username recorded as who imported it (default: nobody named).",
        )

    def handle(self, *args, file: Path, as_user: str, **options):
        actor = None
        if as_user:
            actor = get_user_model().objects.filter(username=as_user).first()
            if actor is None:
                raise CommandError(f"--as-user: no dashboard user {as_user!r}")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        result = campaign_facts_import(data=data, actor=actor, filename=file.name)
        if result.errors:
            for error in result.errors:
                self.stderr.write(error)
            raise CommandError(f"Nothing imported: {file} has errors (listed above)")
        self.stdout.write(f"Imported {result.rows} row(s): {result.changed} campaign(s) changed.")
