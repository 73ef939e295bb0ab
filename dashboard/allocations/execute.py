"""Running a job: one allocate-agents call per unfinished batch, in order, then success or failure.

Guarantees and how they are kept
* A job is never run by two workers at once: ``job_execute`` checks the status and lease under a
  row lock before any ICWS call, and raises the job's ``lease_token``.
* Fencing: every write of a batch's outcome (roster move, retry, failure, success) first runs
  ``UPDATE ... WHERE lease_token = mine`` (``_fenced``); a worker whose lease passed and whose
  job was taken over writes nothing but an audit row saying what it knew (``_refused``). The
  lease is longer than the send deadline plus a margin (system check in ``checks``), so a
  takeover during a live send is the exception, not the rule.
* A 202 is the answer: the client returns once a write's 2xx status line arrived, even if the
  body never finishes; only a send whose status never arrived is of unknown outcome.
* Two jobs never interleave on one agent: a batch first takes a hold on its agents
  (``Agent.held_by_job``) under row locks, and releases it with the roster update.
* A job built on a stale roster is not applied: when the requester sent the roster versions it
  saw, each agent's version is checked once, when its batch is about to be sent, under the
  agent's row lock; a mismatch fails the job as a conflict before ICWS is called for it.
* Transient ICWS errors are retried with capped, jittered backoff up to
  ``ALLOCATION_MAX_ATTEMPTS``; every state change writes its audit row in the same transaction.
* A failed job records its error's class name and ``transient`` flag, which ``explain`` reads.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.allocations.selectors import roster_when_requested, stale_agents
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Agent, RosterEntry
from dashboard.directory.selectors import roster_of
from icws_client import IcwsClient, IcwsError, IcwsTimeout

Status = AllocationJob.Status
ErrorKind = AllocationJob.ErrorKind
Kind = AuditEvent.Kind

# Why sending a batch again is safe when ICWS may already have applied it. Said once, here,
# and referred to wherever a batch is re-sent (a lost worker, a timed-out send, a Retry):
# ICWS gives no read-back of other agents' membership, so the outcome of a send that got no
# answer is unknown; allocate-agents sets membership (agents into and out of campaigns) rather
# than adding to it, so sending it again leaves the same end state. The audit row says so, so
# a second application in ICWS's own log is explained.
SAME_END_STATE = "ICWS may have applied it already; sending it again leaves the same end state"


@dataclass
class RunOutcome:
    """What ``job_execute`` asks of its caller: nothing, or to run again after ``retry_in``."""

    status: str
    retry_in: float | None = None
    notes: list[str] = field(default_factory=list)


def job_execute(*, job_id: int, client: IcwsClient) -> RunOutcome:
    """Run (or resume) a job: one allocate-agents call per unfinished batch, in order.

    Returns ``RunOutcome``; when ``retry_in`` is set the caller must run it again after that many
    seconds. Never raises for ICWS errors: they end in the job's state and the audit log.
    """
    now = timezone.now()
    with transaction.atomic():
        # of=self: a plain FOR UPDATE would lock the requesting user's row too, and every audit
        # insert naming that user (FK check) would wait on it while holding the chain head.
        # no_key: FK checks from rows that reference the job must not wait on this lock.
        job = (
            AllocationJob.objects.select_for_update(of=("self",), no_key=True)
            .select_related("requested_by")
            .get(pk=job_id)
        )
        if job.is_terminal:
            return RunOutcome(job.status)
        if job.status == Status.RUNNING and job.lease_expires_at and job.lease_expires_at > now:
            return RunOutcome(job.status, notes=["running elsewhere"])
        if job.status == Status.RETRYING and job.next_attempt_at and job.next_attempt_at > now:
            return RunOutcome(job.status, retry_in=(job.next_attempt_at - now).total_seconds())
        taken_over = job.status == Status.RUNNING
        job.status = Status.RUNNING
        job.attempts += 1
        job.lease_token += 1  # under the row lock: any earlier holder's token is now stale
        job.started_at = job.started_at or now
        job.lease_expires_at = now + timedelta(seconds=settings.ALLOCATION_LEASE_SECONDS)
        job.save(
            update_fields=[
                "status",
                "attempts",
                "lease_token",
                "started_at",
                "lease_expires_at",
                "updated_at",
            ]
        )
        message = f"Attempt {job.attempts}"
        if taken_over:
            message += " (took over from a worker whose lease expired)"
        audit_record(kind=Kind.STARTED, job=job, message=message)

    for batch in job.batches.exclude(status__in=[JobBatch.Status.ACCEPTED]).order_by("index"):
        if batch.status in (JobBatch.Status.FAILED, JobBatch.Status.SKIPPED):
            continue
        result = _run_batch(job, batch, client)
        if result is not None:
            return result
    return _finish(job)


def _run_batch(job: AllocationJob, batch: JobBatch, client: IcwsClient) -> RunOutcome | None:
    """Send one batch. Returns None to go on with the next batch, or the job's outcome."""
    now = timezone.now()
    with transaction.atomic():
        if not _fenced(job):
            return _refused(job, batch, "before its send; nothing was sent by this worker")
        agents = list(
            Agent.objects.select_for_update(no_key=True)
            .filter(id__in=batch.agent_ids)
            .order_by("id")
        )
        holders = {a.held_by_job_id for a in agents} - {None, job.pk}
        live_holders = set(
            AllocationJob.objects.filter(pk__in=holders)
            .exclude(status__in=AllocationJob.TERMINAL)
            .values_list("pk", flat=True)
        )
        if live_holders:
            return _wait_for_other_jobs(job, live_holders)
        # Only this batch's agents: the others are checked when their own batch is sent (a
        # check of the whole move here failed every move of more than one batch).
        stale = stale_agents(job.expected_versions, batch.agent_ids)
        if stale:
            return _fail(
                job,
                ErrorKind.CONFLICT,
                "The roster changed since this move was prepared (moved meanwhile: "
                f"{', '.join(stale[:10])}). Nothing was sent to ICWS for them.",
            )
        Agent.objects.filter(pk__in=[a.pk for a in agents]).update(held_by_job=job)
        if batch.status == JobBatch.Status.SENDING:
            # The last send's answer was never recorded (worker killed or database gone
            # mid-call); see SAME_END_STATE for why it is sent again.
            audit_record(
                kind=Kind.RETRY,
                job=job,
                agent_ids=batch.agent_ids,
                message=f"Re-sending batch {batch.index + 1}: the previous send's outcome was "
                f"never recorded (worker or database lost mid-call); {SAME_END_STATE}",
                details={"batch": batch.index, "outcome_unknown": True},
            )
        batch.status = JobBatch.Status.SENDING
        batch.attempts += 1
        batch.sent_at = now
        batch.save(update_fields=["status", "attempts", "sent_at"])

    started = time.monotonic()
    try:
        client.allocate_agents(batch.agent_ids, job.campaign_ids_in, job.campaign_ids_out)
    except IcwsError as exc:
        duration = int((time.monotonic() - started) * 1000)
        return _batch_failed(job, batch, exc, duration)
    duration = int((time.monotonic() - started) * 1000)

    with transaction.atomic():
        if not _fenced(job):
            return _refused(
                job, batch, f"while the send was in flight; ICWS answered it (2xx) in {duration} ms"
            )
        RosterEntry.objects.filter(
            agent_id__in=batch.agent_ids, campaign_id__in=job.campaign_ids_out
        ).delete()
        RosterEntry.objects.bulk_create(
            [
                RosterEntry(agent_id=a, campaign_id=c, source="allocation")
                for a in batch.agent_ids
                for c in job.campaign_ids_in
            ],
            ignore_conflicts=True,
        )
        Agent.objects.filter(id__in=batch.agent_ids).update(
            roster_version=F("roster_version") + 1, held_by_job=None
        )
        batch.status = JobBatch.Status.ACCEPTED
        batch.finished_at = timezone.now()
        batch.duration_ms = duration
        batch.error_status = None
        batch.error_id = batch.error_message = ""
        batch.save()
    return None


def _wait_for_other_jobs(job: AllocationJob, holders: set[int]) -> RunOutcome:
    delay = 1.0
    AllocationJob.objects.filter(pk=job.pk).update(
        status=Status.RETRYING,
        lease_expires_at=None,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        attempts=F("attempts") - 1,  # waiting is not an attempt at ICWS
    )
    return RunOutcome(
        Status.RETRYING,
        retry_in=delay,
        notes=[f"waiting for job(s) {', '.join(map(str, sorted(holders)))} on the same agents"],
    )


def _batch_failed(job: AllocationJob, batch: JobBatch, exc: IcwsError, duration: int):
    transient = exc.transient
    exhausted = job.attempts >= settings.ALLOCATION_MAX_ATTEMPTS
    # A send that timed out left and got no answer (SAME_END_STATE): the audit says so.
    # Only a send whose status line never arrived: one that never went out whole (sent=False)
    # cannot have been applied, and one whose 2xx arrived is returned as an answer by the client.
    unknown = isinstance(exc, IcwsTimeout) and exc.sent and not exc.status_received
    details = {"batch": batch.index, "outcome_unknown": True} if unknown else None
    with transaction.atomic():
        if not _fenced(job):
            return _refused(job, batch, f"while the send was in flight; it ended with: {exc}")
        Agent.objects.filter(id__in=batch.agent_ids, held_by_job=job).update(held_by_job=None)
        batch.status = (
            JobBatch.Status.PENDING if transient and not exhausted else JobBatch.Status.FAILED
        )
        batch.finished_at = timezone.now()
        batch.duration_ms = duration
        batch.error_status = exc.status
        batch.error_id = _fit_error_id(exc.error_id)
        batch.error_message = exc.message
        batch.save()
        if transient and not exhausted:
            delay = _backoff(job.attempts)
            _transition(
                job,
                Status.RETRYING,
                error=exc,
                lease_expires_at=None,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
            )
            audit_record(
                kind=Kind.RETRY,
                job=job,
                agent_ids=batch.agent_ids,
                icws_error=exc,
                duration_ms=duration,
                message=f"Attempt {job.attempts} failed ({exc}); retrying in {delay:.1f} s"
                + ("; ICWS may have applied the timed-out send, with the same result" * unknown),
                details=details,
            )
            return RunOutcome(Status.RETRYING, retry_in=delay)
    kind = ErrorKind.RETRIES_EXHAUSTED if transient else ErrorKind.ICWS
    prefix = f"Gave up after {job.attempts} attempts: " if transient else ""
    suffix = (
        "; ICWS may have applied the last send: check the agents in ICWS, or Retry "
        "(allocate-agents sets membership, so a retry cannot apply it twice in effect)"
    ) * unknown
    return _fail(
        job, kind, prefix + exc.message + suffix, exc=exc, duration_ms=duration, details=details
    )


def _backoff(attempt: int) -> float:
    base = settings.ALLOCATION_RETRY_BASE_SECONDS
    cap = settings.ALLOCATION_RETRY_CAP_SECONDS
    return min(cap, base * 2 ** max(0, attempt - 1)) * random.uniform(0.5, 1.0)  # noqa: S311


def _transition(
    job: AllocationJob,
    status: str,
    *,
    error: IcwsError | None = None,
    kind: str = "",
    message: str | None = None,
    **fields,
) -> None:
    """Move ``job`` to ``status`` with its error fields describing ``error`` (all cleared when
    there is none), then reload it. The one place that writes a job's error fields."""
    AllocationJob.objects.filter(pk=job.pk).update(
        status=status,
        error_kind=kind,
        error_class=type(error).__name__ if error is not None else "",
        error_transient=bool(error is not None and error.transient),
        error_status=getattr(error, "status", None),
        error_id=_fit_error_id(getattr(error, "error_id", None)),
        error_code=_fit_error_code(getattr(error, "error_code", None)),
        error_message=message if message is not None else getattr(error, "message", ""),
        **fields,
    )
    job.refresh_from_db()


def _fit_error_id(value: object) -> str:
    """ICWS's errorId cut to its column (200): any length must still leave the job its error."""
    text = (value if isinstance(value, str) else "").replace("\x00", "\ufffd")  # PostgreSQL: no NUL
    return text if len(text) <= 200 else text[:199] + "…"


def _fit_error_code(value: object) -> int | None:
    """errorCode when it fits a BigIntegerField, else None (the message still carries it)."""
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    return None


def _ended(**fields) -> dict:
    return {
        "finished_at": timezone.now(),
        "lease_expires_at": None,
        "next_attempt_at": None,
        **fields,
    }


def _fenced(job: AllocationJob) -> bool:
    """Inside the caller's transaction: True if this worker's lease token is still the job's,
    and then the job row stays locked (and its lease extended) until the caller commits, so no
    takeover can slip in between this check and the write it guards."""
    lease = timezone.now() + timedelta(seconds=settings.ALLOCATION_LEASE_SECONDS)
    return bool(
        AllocationJob.objects.filter(
            pk=job.pk, lease_token=job.lease_token, status=Status.RUNNING
        ).update(lease_expires_at=lease)
    )


def _refused(job: AllocationJob, batch: JobBatch | None, when: str) -> RunOutcome:
    """This worker's lease passed and the job was taken over (or ended): write nothing of the
    outcome, only an audit row saying what this worker knew."""
    where = f"batch {batch.index + 1}" if batch is not None else "the job"
    audit_record(
        kind=Kind.RETRY,
        job=job,
        agent_ids=batch.agent_ids if batch is not None else None,
        message=f"Lease expired (attempt {job.attempts}) {when}; this worker's result for "
        f"{where} was not recorded: the job's current worker records it",
        details={
            "batch": batch.index if batch is not None else None,
            "stale_lease_token": job.lease_token,
            "write_refused": True,
        },
    )
    return RunOutcome(job.status, notes=["lease lost: write refused"])


def _fail(
    job,
    kind,
    message: str,
    *,
    exc: IcwsError | None = None,
    duration_ms=None,
    details=None,
    fence: bool = True,
):
    with transaction.atomic():
        if fence and not _fenced(job):
            return _refused(job, None, f"before its failure was recorded ({message})")
        JobBatch.objects.filter(job=job, status=JobBatch.Status.PENDING).update(
            status=JobBatch.Status.SKIPPED
        )
        Agent.objects.filter(held_by_job=job).update(held_by_job=None)
        accepted = job.batches.filter(status=JobBatch.Status.ACCEPTED).count()
        total = job.batches.count()
        if accepted:
            message = f"{message} ({accepted} of {total} batches were applied before this)"
        _transition(job, Status.FAILED, error=exc, kind=kind, message=message, **_ended())
        audit_record(
            kind=Kind.FAILED,
            job=job,
            icws_error=exc,
            message=message,
            roster_before=roster_when_requested(job),
            roster_after=roster_of(job.agent_ids) if accepted else {},
            duration_ms=duration_ms,
            details=details,
        )
    return RunOutcome(Status.FAILED)


def _finish(job: AllocationJob) -> RunOutcome:
    if job.batches.filter(status=JobBatch.Status.FAILED).exists():
        return _fail(job, ErrorKind.ICWS, "Some batches failed")
    with transaction.atomic():
        if not _fenced(job):
            return _refused(job, None, "before its success was recorded")
        _transition(job, Status.SUCCEEDED, **_ended())
        audit_record(
            kind=Kind.SUCCEEDED,
            job=job,
            message=job.describe() + " accepted by ICWS",
            roster_before=roster_when_requested(job),
            roster_after=roster_of(job.agent_ids),
            duration_ms=sum(
                job.batches.values_list("duration_ms", flat=True).exclude(duration_ms=None)
            ),
        )
    return RunOutcome(Status.SUCCEEDED)


def job_fail_unexpectedly(*, job_id: int, error: str) -> None:
    """Last resort for a bug in the engine: the job still ends, with an audit row."""
    job = AllocationJob.objects.get(pk=job_id)
    if not job.is_terminal:
        # Unfenced: the job must end whichever worker holds it (a bug, not a race, got here).
        _fail(job, ErrorKind.INTERNAL, f"Internal error: {error}", fence=False)
