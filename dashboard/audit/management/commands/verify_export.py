from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dashboard.audit.export_verify import export_verify


class Command(BaseCommand):
    help = (
        "Check an audit export (CSV or JSON Lines) alone: its SHA-256, row count and signature; "
        "exit non-zero naming what does not match."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            report = export_verify(file)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text: not an audit export") from None
        if not report.ok:
            raise CommandError(f"Export {file} does not verify: {report.problem}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Export {file} verifies: {report.rows} rows ({report.fmt}), SHA-256 and "
                "signature match."
            )
        )
