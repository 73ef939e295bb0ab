from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dashboard.directory.services import roster_import


class Command(BaseCommand):
    help = (
        "Replace the roster of the agents listed in a CSV file of agent_id,campaign_id rows "
        "(header optional; an empty campaign_id puts the agent in no campaign). All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        result = roster_import(text=text, source="import")
        if result.errors:
            for error in result.errors[:50]:
                self.stderr.write(error)
            more = len(result.errors) - 50
            if more > 0:
                self.stderr.write(f"... and {more} more")
            raise CommandError(f"Nothing imported: {len(result.errors)} error(s) in {file}")
        self.stdout.write(f"Imported {result.rows} row(s) for {result.agents} agent(s).")
