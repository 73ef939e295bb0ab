"""A failed job's error in words a supervisor can act on, without calling IT first."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.allocations.models import AllocationJob

ErrorKind = AllocationJob.ErrorKind

# errorId -> explanation; checked before the status, because it is more specific.
BY_ERROR_ID = {
    "error.request.dialer.noLicense": (
        "No Dialer Add-on licence is available for these agents or the stations they are logged "
        "in to. Ask your CIC administrator to assign one, then retry."
    ),
    "error.request.unsupported": (
        "This CIC server's dialer does not support moving agents (it needs dialer feature "
        "version 7 or later). Ask your CIC administrator."
    ),
}
BY_STATUS = {
    400: "ICWS refused the move as invalid.",
    401: "The dashboard's ICWS session was refused. Ask an administrator to check its account.",
    403: "ICWS refused the move: the dashboard's account or the agents lack a permission or "
    "licence.",
    404: "ICWS does not know one of the agents or campaigns. Reload the board: it may have been "
    "removed.",
    410: "The dashboard's ICWS session ended and could not be renewed.",
    500: "The CIC server had an internal error.",
    503: "The CIC server is not accepting requests right now (switchover or maintenance).",
}
UNREACHABLE = "The CIC server could not be reached in time."
TRANSIENT_STATUSES = frozenset({500, 503, None})


@dataclass(frozen=True)
class Explanation:
    headline: str
    detail: str  # ICWS's own message and errorId, for whoever the supervisor escalates to
    retryable: bool


def explain_job(job: AllocationJob) -> Explanation | None:
    """None for a job that has not failed."""
    if job.status != AllocationJob.Status.FAILED:
        return None
    detail = _detail(job)
    if job.error_kind == ErrorKind.CONFLICT:
        return Explanation(
            "Someone else moved these agents after your board loaded, so nothing was changed. "
            "Check the board and move them again if still needed.",
            job.error_message,
            retryable=False,
        )
    if job.error_kind == ErrorKind.INTERNAL:
        return Explanation(
            "The dashboard hit an internal error; the move was stopped.", detail, retryable=True
        )
    headline = BY_ERROR_ID.get(job.error_id) or BY_STATUS.get(job.error_status or 0)
    if job.error_status is None and not headline:
        headline = UNREACHABLE
    headline = headline or "ICWS refused the move."
    retryable = job.error_kind == ErrorKind.RETRIES_EXHAUSTED or (
        job.error_status in TRANSIENT_STATUSES and job.error_id not in BY_ERROR_ID
    )
    if job.error_kind == ErrorKind.RETRIES_EXHAUSTED:
        headline = f"{headline} The dashboard tried {job.attempts} times and gave up."
    if job.error_id in BY_ERROR_ID:
        retryable = True  # a licence can be assigned and the move sent again
    return Explanation(headline, detail, retryable)


def _detail(job: AllocationJob) -> str:
    parts = []
    if job.error_status:
        parts.append(f"HTTP {job.error_status}")
    if job.error_id:
        parts.append(job.error_id)
    text = " · ".join(parts)
    if job.error_message:
        text = f"{text}: {job.error_message}" if text else job.error_message
    return text
