from django.core.management.base import BaseCommand, CommandError

from dashboard.audit.integrity import chain_verify


class Command(BaseCommand):
    help = "Walk the audit log's hash chain; name the first broken row and exit non-zero."

    def handle(self, *args, **options):
        report = chain_verify()
        if not report.ok:
            where = (
                f"row id {report.broken_id} (seq {report.broken_seq})"
                if report.broken_id is not None
                else "the chain head"
            )
            raise CommandError(
                f"Audit chain broken at {where}: {report.problem}. "
                f"{report.rows} rows before it are intact."
            )
        if not report.rows:
            self.stdout.write("Audit log is empty: nothing to verify.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.rows} rows, seq {report.first_seq} to "
                f"{report.last_seq}."
            )
        )
