from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard.audit.integrity import audit_archive


class Command(BaseCommand):
    help = (
        "Archive audit entries older than N days: export them to a JSON Lines file, then delete "
        "them, and record the archive in the chain. Needs DELETE on the audit tables "
        "(docs/OPERATIONS.md, 'Audit retention')."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help="default: AUDIT_RETENTION_DAYS",
        )
        parser.add_argument(
            "--output",
            default=None,
            help="folder for the archive file (default: AUDIT_ARCHIVE_DIR)",
        )

    def handle(self, *args, older_than_days, output, **options):
        days = older_than_days if older_than_days is not None else settings.AUDIT_RETENTION_DAYS
        if not days or days < 1:
            raise CommandError(
                "Nothing to do: give --older-than-days N (N >= 1) or set AUDIT_RETENTION_DAYS"
            )
        folder = Path(output or settings.AUDIT_ARCHIVE_DIR)
        result = audit_archive(older_than=timezone.now() - timedelta(days=days), directory=folder)
        if not result.count:
            self.stdout.write(f"No audit entries older than {days} day{'' if days == 1 else 's'}.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Archived {result.count} entries (seq {result.first_seq} to {result.last_seq}) "
                f"to {result.path} (sha256 {result.sha256})."
            )
        )
