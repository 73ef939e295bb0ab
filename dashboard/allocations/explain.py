"""A failed job's error in words a supervisor can act on, without calling IT first.

What the error *is* was decided where it was made: the job stores the exception's class name
(``error_class``) and its ``transient`` flag, and Retry is offered from those, not guessed from
the HTTP status. The words key on the class and the HTTP status (and the errorCode) first; an
errorId only where the ICWS record shows one (REFERENCE.md section 10: none was found for the
dialer 403, whose text names the Dialer Add-on licence).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import Agent
from dashboard.presence.selectors import job_observations, listener_health

ErrorKind = AllocationJob.ErrorKind

UPGRADE_DIALER = (
    "This CIC server's Interaction Dialer is too old to move agents: allocate-agents needs ICWS "
    "dialer feature version 7 or later. Ask your CIC administrator to upgrade the CIC server "
    "(Interaction Dialer) to a release with dialer feature 7; retrying will not help until then."
)
# Errors the dashboard raised itself, before or instead of an HTTP answer.
BY_CLASS = {
    "IcwsUnsupportedFeature": UPGRADE_DIALER,
    "IcwsRequestRefused": "The dashboard refused to send this move to ICWS as it stands.",
    "IcwsProtocolError": "The CIC server answered in a way the ICWS documents do not allow.",
}
CONNECTION_CLASSES = frozenset({"IcwsConnectionError", "IcwsTimeout"})
BY_STATUS = {
    400: "ICWS refused the move as invalid.",
    401: "The dashboard's ICWS session was refused. Ask an administrator to check its account.",
    403: "ICWS refused the move: the dashboard's account or the agents lack a permission or "
    "licence. On allocate-agents that is the Dialer Add-on licence, for the agents or the "
    "stations they are logged in to; ask your CIC administrator to assign one.",
    404: "ICWS does not know one of the agents or campaigns. Reload the board: it may have been "
    "removed.",
    410: "The dashboard's ICWS session ended and could not be renewed.",
    500: "The CIC server had an internal error.",
    503: "The CIC server is not accepting requests right now (switchover or maintenance).",
}
# (status, errorCode) as recorded from real servers (REFERENCE.md section 10).
BY_STATUS_AND_CODE = {
    (401, 1): "The dashboard's ICWS request carried no session. Ask an administrator to check "
    "its ICWS account and connection.",
    (401, 2): "The dashboard's ICWS request lacked its authentication token (CSRF token or "
    "cookie). Ask an administrator to check its ICWS connection.",
}
# Not on record from a real server (the simulator can send it); kept so its more specific words
# show where it does appear. Checked only together with its status.
BY_STATUS_AND_ERROR_ID = {
    (403, "error.request.dialer.noLicense"): (
        "No Dialer Add-on licence is available for these agents or the stations they are logged "
        "in to. Ask your CIC administrator to assign one, then retry."
    ),
}
UNREACHABLE = "The CIC server could not be reached in time."


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
    licence = BY_STATUS_AND_ERROR_ID.get((job.error_status, job.error_id))
    headline = (
        BY_CLASS.get(job.error_class)
        or licence
        or BY_STATUS_AND_CODE.get((job.error_status, job.error_code))
        or BY_STATUS.get(job.error_status or 0)
    )
    unreachable = job.error_class in CONNECTION_CLASSES or (
        # Jobs failed before the class was stored: no status and given up after retries.
        not job.error_class and job.error_status is None and not headline
    )
    if not headline and unreachable:
        headline = UNREACHABLE
    headline = headline or "ICWS refused the move."
    gave_up = job.error_kind == ErrorKind.RETRIES_EXHAUSTED
    # A licence can be assigned and the same move sent again.
    retryable = gave_up or job.error_transient or licence is not None
    if gave_up:
        headline = f"{headline} The dashboard tried {job.attempts} times and gave up."
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


def outcome_note(job: AllocationJob) -> str | None:
    """What a finished job's success means, honestly (issue 13 item 6): ICWS answers 202, which
    is "accepted", not "applied"; CIC applies a move only to agents logged in to Dialer from their
    own client, so name the moved agents the listener last saw without one."""
    if job.status != AllocationJob.Status.SUCCEEDED:
        return None
    note = (
        "CIC accepted the move (HTTP 202): accepted, not confirmed applied. CIC applies it to "
        "agents logged in to Dialer from their own client."
    )
    observed = job_observations(job)
    if observed:  # what was seen after the move (presence.observe) replaces the guesses below
        return f"{note} Observed {observed[-1].clock}: {observed[-1].message}"
    namesake = Agent.objects.filter(name=OuterRef("name")).exclude(id=OuterRef("id"))
    rows = (
        Agent.objects.filter(id__in=job.agent_ids, has_live_client=False)
        .annotate(shared=Exists(namesake))
        .order_by("name", "id")
        .values_list("id", "name", "shared")[:6]
    )
    # Named as the job's entry names them (board.job_words): a namesake with their id.
    without = [f"{name} ({a})" if shared else name for a, name, shared in rows]
    if without:
        more = "…" if len(without) > 5 else ""
        note += f" No live CIC client when last seen: {', '.join(without[:5])}{more}."
    health = listener_health()
    if health.presence_stale:
        since = f" since {health.since:%H:%M:%S}" if health.since else ""
        note += f" Presence is stale{since}, so this may be out of date."
    return note
