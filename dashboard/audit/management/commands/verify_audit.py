from django.core.management.base import BaseCommand, CommandError

from dashboard.audit.integrity import chain_verify
from dashboard.audit.words_check import NO_WORD_LIST


class Command(BaseCommand):
    help = (
        "Walk the audit log's hash chain against the newest signed checkpoint, with the chain "
        "head; name what broke and exit non-zero."
    )

    def handle(self, *args, **options):
        report = chain_verify()
        if not report.ok:
            where = (
                f"row id {report.broken_id} (seq {report.broken_seq})"
                if report.broken_id is not None
                else report.where or "the chain head"
            )
            raise CommandError(
                f"Audit chain broken at {where}: {report.problem}. "
                f"{report.rows} rows before it are intact."
            )
        point = report.checkpoint
        against = (
            f"; matches the signed checkpoint at seq {point.seq} ({report.checkpoint_source})"
            if point
            else "; no signed checkpoint yet"
        )
        if report.unchained:  # committed after the chainer ran: their seals were checked
            self.stdout.write(f"{report.unchained} rows not chained yet; their seals verify.")
        if report.note:
            self.stdout.write(self.style.WARNING(f"Note: {report.note}."))
        self.stdout.write(_words_line(report.words_checked))
        if not report.rows:
            self.stdout.write(f"Audit log is empty: nothing to verify{against}.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.rows} rows, seq {report.first_seq} to "
                f"{report.last_seq}{against}."
            )
        )


def _words_line(checked: str) -> str:
    """Which path the word check took (``words_check.check_words``): every row (no word
    checkpoint, or one that no longer holds) or only the rows after a signed word checkpoint."""
    if checked == NO_WORD_LIST:
        return "Filters' word list: none on this database (its filters test the rows)."
    return f"Filters' word list holds every word of the rows; checked: {checked}."
