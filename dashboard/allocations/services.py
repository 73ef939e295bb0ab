"""Allocation jobs: submit, execute, sweep. The logic lives here; tasks and views only call in.

Guarantees and how they are kept
* Every job reaches a terminal state: transient ICWS errors are retried with capped, jittered
  backoff up to ``ALLOCATION_MAX_ATTEMPTS``; a worker that dies leaves a lease that expires, and
  ``jobs_sweep`` (beat) puts the job back in the queue; a lost broker message is found the same way.
* A job is never run by two workers at once: ``job_execute`` checks the status and lease under a
  row lock before any ICWS call.
* Two jobs never interleave on one agent: a batch first takes a hold on its agents
  (``Agent.held_by_job``) under row locks, and releases it with the roster update.
* A job built on a stale roster is not applied: when the requester sent the roster versions it
  saw, a mismatch fails the job as a conflict before ICWS is called.
* Every event (requested, refused, started, retry, succeeded, failed) writes an audit row in the
  same transaction as the state change it records.

A batch whose worker died during the ICWS call is sent again when the job is taken over. ICWS
gives no read-back of membership, so the outcome of that call is unknown; allocate-agents moves
agents into and out of sets of campaigns, so sending it again leaves the same end state. The
audit row of the takeover says so.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from dashboard.accounts import roles
from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Agent, Campaign, RosterEntry
from dashboard.directory.selectors import roster_of
from icws_client import IcwsError, IcwsTimeout

log = logging.getLogger(__name__)

Status = AllocationJob.Status
Kind = AuditEvent.Kind
MAX_REASON = 500
# C0/C1 controls except tab and newlines, and the Unicode bidirectional overrides and isolates.
_HIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MAX_IDEMPOTENCY_KEY = 200


class MoveRefused(Exception):
    """A move that is not queued. ``code``: invalid, forbidden, conflict, not_found."""

    def __init__(self, code: str, message: str, fields: dict[str, str] | None = None):
        self.code = code
        self.message = message
        self.fields = fields or {}
        super().__init__(message)


@dataclass
class RunOutcome:
    """What ``job_execute`` asks of its caller: nothing, or to run again after ``retry_in``."""

    status: str
    retry_in: float | None = None
    notes: list[str] = field(default_factory=list)


# -- submit ---------------------------------------------------------------------------------------


def job_submit(
    *,
    actor,
    agent_ids,
    campaign_ids_in=(),
    campaign_ids_out=(),
    reason: str = "",
    idempotency_key: str | None = None,
    expected_versions: dict[str, int] | None = None,
    request_id: str = "",
    revert_of: AllocationJob | None = None,
) -> tuple[AllocationJob, bool]:
    """Validate and queue a move. Returns ``(job, created)``; raises ``MoveRefused``.

    The same ``idempotency_key`` from the same user returns the existing job (``created`` False);
    reusing a key for a different move is refused.
    """
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise MoveRefused(
                "invalid",
                "Idempotency-Key must be 1 to 200 characters",
                {"idempotency_key": "must be 1 to 200 characters"},
            )
        existing = _existing_job(actor, idempotency_key)
        if existing is not None:
            _check_same_move(existing, agent_ids, campaign_ids_in, campaign_ids_out)
            return existing, False

    agents, ins, outs, reason = _validate_move(agent_ids, campaign_ids_in, campaign_ids_out, reason)
    expected = _validate_expected(expected_versions, agents)

    refusal = _permission_refusal(actor, agents)
    if refusal is None:
        refusal = _conflict_refusal(agents, expected)
    if refusal is not None:
        audit_record(
            kind=Kind.REFUSED,
            actor=actor,
            agent_ids=agents,
            campaign_ids_in=ins,
            campaign_ids_out=outs,
            reason=reason,
            roster_before=roster_of(agents),
            message=refusal.message,
            request_id=request_id,
        )
        raise refusal

    try:
        with transaction.atomic():
            job = AllocationJob.objects.create(
                requested_by=actor,
                agent_ids=agents,
                campaign_ids_in=ins,
                campaign_ids_out=outs,
                reason=reason,
                idempotency_key=idempotency_key,
                expected_versions=expected,
                request_id=request_id,
                revert_of=revert_of,
                next_attempt_at=timezone.now(),
            )
            size = settings.ALLOCATION_BATCH_SIZE
            JobBatch.objects.bulk_create(
                JobBatch(job=job, index=i, agent_ids=agents[start : start + size])
                for i, start in enumerate(range(0, len(agents), size))
            )
            audit_record(
                kind=Kind.REQUESTED,
                job=job,
                roster_before=roster_of(agents),
                message=_describe(job),
            )
            _enqueue_on_commit(job.pk)
    except IntegrityError:
        # Two submits with one key raced; the other one won.
        existing = _existing_job(actor, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return existing, False
    return job, True


def _existing_job(actor, key: str) -> AllocationJob | None:
    return AllocationJob.objects.filter(requested_by=actor, idempotency_key=key).first()


def _check_same_move(job: AllocationJob, agent_ids, ins, outs) -> None:
    same = (
        list(agent_ids or []) == job.agent_ids
        and list(ins or []) == job.campaign_ids_in
        and list(outs or []) == job.campaign_ids_out
    )
    if not same:
        raise MoveRefused(
            "conflict",
            f"This Idempotency-Key was already used for job {job.pk}, a different move",
            {"idempotency_key": "already used for a different move"},
        )


def _id_list(value, name: str, errors: dict[str, str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        errors[name] = "must be a list of ids"
        return []
    ids = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > 200:
            errors[name] = "must contain only non-empty ids of at most 200 characters"
            return []
        ids.append(item.strip())
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        errors[name] = f"lists an id more than once: {', '.join(dupes[:10])}"
    return ids


def _validate_move(agent_ids, ins, outs, reason) -> tuple[list[str], list[str], list[str], str]:
    errors: dict[str, str] = {}
    agents = _id_list(agent_ids, "agent_ids", errors)
    ins_ = _id_list(ins, "campaign_ids_in", errors)
    outs_ = _id_list(outs, "campaign_ids_out", errors)
    if "agent_ids" not in errors and not agents:
        errors["agent_ids"] = "select at least one agent"
    if len(agents) > settings.ALLOCATION_MAX_AGENTS:
        errors["agent_ids"] = f"at most {settings.ALLOCATION_MAX_AGENTS} agents in one move"
    if not errors.keys() & {"campaign_ids_in", "campaign_ids_out"}:
        if not ins_ and not outs_:
            errors["campaign_ids_in"] = "name a campaign to move agents into or out of"
        overlap = sorted(set(ins_) & set(outs_))
        if overlap:
            errors["campaign_ids_out"] = f"campaigns both in and out: {', '.join(overlap)}"
    if not isinstance(reason, str):
        errors["reason"] = "must be text"
        reason = ""
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"at most {MAX_REASON} characters"
    elif _HIDDEN_CHARACTERS.search(reason):
        # A reason is evidence: control and direction-override characters could make the
        # audit page show something other than what was stored.
        errors["reason"] = "control or text-direction characters are not allowed"
    if not errors:
        known_agents = set(
            Agent.objects.filter(id__in=agents, active=True).values_list("id", flat=True)
        )
        unknown = [a for a in agents if a not in known_agents]
        if unknown:
            errors["agent_ids"] = f"unknown agents: {', '.join(unknown[:10])}"
        campaigns = set(
            Campaign.objects.filter(id__in=ins_ + outs_, active=True).values_list("id", flat=True)
        )
        for name, ids in (("campaign_ids_in", ins_), ("campaign_ids_out", outs_)):
            missing = [c for c in ids if c not in campaigns]
            if missing:
                errors[name] = f"unknown campaigns: {', '.join(missing[:10])}"
    if errors:
        raise MoveRefused(
            "invalid",
            "The move is not valid: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
            errors,
        )
    return agents, ins_, outs_, reason.strip()


def _validate_expected(expected, agents: list[str]) -> dict[str, int]:
    if expected is None:
        return {}
    if not isinstance(expected, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in expected.items()
    ):
        raise MoveRefused(
            "invalid",
            "expected_versions must map agent ids to roster versions (integers)",
            {"expected_versions": "must map agent ids to non-negative integers"},
        )
    extra = sorted(set(expected) - set(agents))
    if extra:
        raise MoveRefused(
            "invalid",
            f"expected_versions names agents not in the move: {', '.join(extra[:10])}",
            {"expected_versions": "names agents not in the move"},
        )
    return dict(expected)


def _permission_refusal(actor, agents: list[str]) -> MoveRefused | None:
    if not roles.can_move_agents(actor):
        return MoveRefused("forbidden", "Your role may not move agents (supervisor or admin only)")
    allowed = roles.allowed_workgroups(actor)
    if allowed is None:
        return None
    outside = sorted(
        agent_id
        for agent_id in agents
        if not set(
            Agent.workgroups.through.objects.filter(agent_id=agent_id).values_list(
                "workgroup_id", flat=True
            )
        )
        & allowed
    )
    if outside:
        return MoveRefused(
            "forbidden",
            f"You may not move agents outside your workgroups: {', '.join(outside[:10])}",
        )
    return None


def _conflict_refusal(agents: list[str], expected: dict[str, int]) -> MoveRefused | None:
    stale = _stale_agents(agents, expected)
    if stale:
        return MoveRefused(
            "conflict",
            "The roster changed since this move was prepared (moved meanwhile: "
            f"{', '.join(stale[:10])}). Reload and try again.",
            {"expected_versions": "stale"},
        )
    return None


def _stale_agents(agents: list[str], expected: dict[str, int]) -> list[str]:
    if not expected:
        return []
    current = dict(Agent.objects.filter(id__in=agents).values_list("id", "roster_version"))
    return sorted(a for a, v in expected.items() if current.get(a) != v)


def _describe(job: AllocationJob) -> str:
    parts = [f"{len(job.agent_ids)} agent(s)"]
    if job.campaign_ids_in:
        parts.append(f"in to {', '.join(job.campaign_ids_in)}")
    if job.campaign_ids_out:
        parts.append(f"out of {', '.join(job.campaign_ids_out)}")
    return "Move " + " ".join(parts)


def _enqueue_on_commit(job_id: int) -> None:
    transaction.on_commit(lambda: _enqueue_now(job_id))


def _enqueue_now(job_id: int) -> None:
    """Publish the job's task. The job is already committed: if the broker cannot be reached,
    the supervisor still gets their job (queued) and the sweeper publishes it once the broker
    is back (ALLOCATION_STUCK_AFTER_SECONDS), instead of the request failing with a 500."""
    from dashboard.allocations.tasks import run_job_task

    try:
        run_job_task.apply_async(
            (job_id,),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception:  # kombu raises several kinds (OperationalError, OSError, timeouts)
        log.warning(
            "Broker unreachable: job %s stays queued for the sweeper", job_id, exc_info=True
        )


# -- execute --------------------------------------------------------------------------------------


def job_execute(*, job_id: int, client) -> RunOutcome:
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
        job.started_at = job.started_at or now
        job.lease_expires_at = now + timedelta(seconds=settings.ALLOCATION_LEASE_SECONDS)
        job.save(
            update_fields=["status", "attempts", "started_at", "lease_expires_at", "updated_at"]
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


def _run_batch(job: AllocationJob, batch: JobBatch, client) -> RunOutcome | None:
    """Send one batch. Returns None to go on with the next batch, or the job's outcome."""
    now = timezone.now()
    with transaction.atomic():
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
        stale = _stale_agents(batch.agent_ids, job.expected_versions)
        if stale:
            return _fail(
                job,
                AllocationJob.ErrorKind.CONFLICT,
                "The roster changed since this move was prepared (moved meanwhile: "
                f"{', '.join(stale[:10])}). Nothing was sent to ICWS for them.",
            )
        Agent.objects.filter(pk__in=[a.pk for a in agents]).update(held_by_job=job)
        if batch.status == JobBatch.Status.SENDING:
            # The last send's answer was never recorded (worker killed or database gone
            # mid-call): ICWS may have
            # applied it. ICWS cannot be asked (no call reads other agents' membership), and
            # allocate-agents sets membership, so sending it again leaves the same roster;
            # the audit log says so, so a second application in ICWS's log is explained.
            audit_record(
                kind=Kind.RETRY,
                job=job,
                agent_ids=batch.agent_ids,
                message=f"Re-sending batch {batch.index + 1}: the previous send's outcome was "
                "never recorded (worker or database lost mid-call); ICWS may apply it twice, "
                "with the same result",
                details={"batch": batch.index, "outcome_unknown": True},
            )
        batch.status = JobBatch.Status.SENDING
        batch.attempts += 1
        batch.sent_at = now
        batch.save(update_fields=["status", "attempts", "sent_at"])
        AllocationJob.objects.filter(pk=job.pk).update(
            lease_expires_at=now + timedelta(seconds=settings.ALLOCATION_LEASE_SECONDS)
        )

    started = time.monotonic()
    try:
        client.allocate_agents(batch.agent_ids, job.campaign_ids_in, job.campaign_ids_out)
    except IcwsError as exc:
        duration = int((time.monotonic() - started) * 1000)
        return _batch_failed(job, batch, exc, duration)
    duration = int((time.monotonic() - started) * 1000)

    with transaction.atomic():
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
        # Versions moved on because of this job: later batches compare against the new ones.
        if job.expected_versions:
            for agent_id in batch.agent_ids:
                if agent_id in job.expected_versions:
                    job.expected_versions[agent_id] += 1
            AllocationJob.objects.filter(pk=job.pk).update(expected_versions=job.expected_versions)
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
    with transaction.atomic():
        Agent.objects.filter(id__in=batch.agent_ids, held_by_job=job).update(held_by_job=None)
        batch.status = (
            JobBatch.Status.PENDING if transient and not exhausted else (JobBatch.Status.FAILED)
        )
        batch.finished_at = timezone.now()
        batch.duration_ms = duration
        batch.error_status = exc.status
        batch.error_id = exc.error_id or ""
        batch.error_message = exc.message
        batch.save()
        if transient and not exhausted:
            delay = _backoff(job.attempts)
            AllocationJob.objects.filter(pk=job.pk).update(
                status=Status.RETRYING,
                lease_expires_at=None,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
                error_status=exc.status,
                error_id=exc.error_id or "",
                error_code=exc.error_code,
                error_message=exc.message,
            )
            job.refresh_from_db()
            # A request that timed out was sent: ICWS may have applied it, and the retry sends
            # it again (same end state: allocate-agents sets membership). The audit says so.
            unknown = isinstance(exc, IcwsTimeout)
            audit_record(
                kind=Kind.RETRY,
                job=job,
                agent_ids=batch.agent_ids,
                icws_error=exc,
                duration_ms=duration,
                message=f"Attempt {job.attempts} failed ({exc}); retrying in {delay:.1f} s"
                + (
                    "; ICWS may have applied the timed-out send, with the same result"
                    if unknown
                    else ""
                ),
                details={"batch": batch.index, "outcome_unknown": True} if unknown else None,
            )
            return RunOutcome(Status.RETRYING, retry_in=delay)
    kind = AllocationJob.ErrorKind.RETRIES_EXHAUSTED if transient else AllocationJob.ErrorKind.ICWS
    prefix = f"Gave up after {job.attempts} attempts: " if transient else ""
    suffix = ""
    if isinstance(exc, IcwsTimeout):
        # The last send left and got no answer: ICWS may hold the move the roster does not.
        suffix = (
            "; ICWS may have applied the last send: check the agents in ICWS, or Retry "
            "(allocate-agents sets membership, so a retry cannot apply it twice in effect)"
        )
    return _fail(
        job,
        kind,
        prefix + exc.message + suffix,
        exc=exc,
        duration_ms=duration,
        details={"batch": batch.index, "outcome_unknown": True} if suffix else None,
    )


def _backoff(attempt: int) -> float:
    base = settings.ALLOCATION_RETRY_BASE_SECONDS
    cap = settings.ALLOCATION_RETRY_CAP_SECONDS
    return min(cap, base * 2 ** max(0, attempt - 1)) * random.uniform(0.5, 1.0)  # noqa: S311


def _fail(job, kind, message: str, *, exc: IcwsError | None = None, duration_ms=None, details=None):
    with transaction.atomic():
        JobBatch.objects.filter(job=job, status=JobBatch.Status.PENDING).update(
            status=JobBatch.Status.SKIPPED
        )
        Agent.objects.filter(held_by_job=job).update(held_by_job=None)
        accepted = job.batches.filter(status=JobBatch.Status.ACCEPTED).count()
        total = job.batches.count()
        if accepted:
            message = f"{message} ({accepted} of {total} batches were applied before this)"
        AllocationJob.objects.filter(pk=job.pk).update(
            status=Status.FAILED,
            finished_at=timezone.now(),
            lease_expires_at=None,
            next_attempt_at=None,
            error_kind=kind,
            error_status=getattr(exc, "status", None),
            error_id=getattr(exc, "error_id", None) or "",
            error_code=getattr(exc, "error_code", None),
            error_message=message,
        )
        job.refresh_from_db()
        audit_record(
            kind=Kind.FAILED,
            job=job,
            icws_error=exc,
            message=message,
            roster_before=_roster_when_requested(job),
            roster_after=roster_of(job.agent_ids) if accepted else {},
            duration_ms=duration_ms,
            details=details,
        )
    return RunOutcome(Status.FAILED)


def _finish(job: AllocationJob) -> RunOutcome:
    if job.batches.filter(status=JobBatch.Status.FAILED).exists():
        return _fail(job, AllocationJob.ErrorKind.ICWS, "Some batches failed")
    with transaction.atomic():
        AllocationJob.objects.filter(pk=job.pk).update(
            status=Status.SUCCEEDED,
            finished_at=timezone.now(),
            lease_expires_at=None,
            next_attempt_at=None,
            error_kind="",
            error_status=None,
            error_id="",
            error_code=None,
            error_message="",
        )
        job.refresh_from_db()
        audit_record(
            kind=Kind.SUCCEEDED,
            job=job,
            message=_describe(job) + " accepted by ICWS",
            roster_before=_roster_when_requested(job),
            roster_after=roster_of(job.agent_ids),
            duration_ms=sum(
                job.batches.values_list("duration_ms", flat=True).exclude(duration_ms=None)
            ),
        )
    return RunOutcome(Status.SUCCEEDED)


def _roster_when_requested(job: AllocationJob) -> dict[str, list[str]]:
    requested = job.audit_events.filter(kind=Kind.REQUESTED).values_list("roster_before", flat=True)
    return next(iter(requested), {})


def job_fail_unexpectedly(*, job_id: int, error: str) -> None:
    """Last resort for a bug in the engine: the job still ends, with an audit row."""
    job = AllocationJob.objects.get(pk=job_id)
    if not job.is_terminal:
        _fail(job, AllocationJob.ErrorKind.INTERNAL, f"Internal error: {error}")


def job_retry(*, job_id: int, actor, request_id: str = "") -> AllocationJob:
    """Send a failed job's move again, as a new job (the failed one keeps its record).

    The new job is an ordinary submit: roles, validation and the audit trail apply as usual.
    Batches the failed job had applied are sent again; allocate-agents leaves the same end state.
    """
    job = AllocationJob.objects.get(pk=job_id)
    if not roles.can_move_agents(actor):
        _refuse_on_job(
            job,
            actor,
            "Retry",
            "Your role may not move agents (supervisor or admin only)",
            request_id,
        )
    if job.status != Status.FAILED:
        raise MoveRefused("conflict", f"Job {job.pk} is {job.status}; only failed jobs are retried")
    reason = f"Retry of job {job.pk}" + (f": {job.reason}" if job.reason else "")
    retry, _ = job_submit(
        actor=actor,
        agent_ids=job.agent_ids,
        campaign_ids_in=job.campaign_ids_in,
        campaign_ids_out=job.campaign_ids_out,
        reason=reason[:MAX_REASON],
        idempotency_key=f"retry-of-{job.pk}",
        request_id=request_id,
    )
    return retry


# -- cancel and sweep -----------------------------------------------------------------------------


def job_cancel(*, job_id: int, actor, request_id: str = "") -> AllocationJob:
    """Cancel a job that has not started sending; a running job cannot be stopped mid-call."""
    if not roles.can_move_agents(actor):
        job = AllocationJob.objects.get(pk=job_id)
        _refuse_on_job(job, actor, "Cancel", "Your role may not cancel moves", request_id)
    with transaction.atomic():
        job = AllocationJob.objects.select_for_update(no_key=True).get(pk=job_id)
        if job.status not in (Status.QUEUED, Status.RETRYING):
            raise MoveRefused("conflict", f"Job {job.pk} is {job.status}; it cannot be cancelled")
        JobBatch.objects.filter(job=job, status=JobBatch.Status.PENDING).update(
            status=JobBatch.Status.SKIPPED
        )
        job.status = Status.CANCELLED
        job.finished_at = timezone.now()
        job.next_attempt_at = None
        job.save()
        audit_record(kind=Kind.CANCELLED, job=job, actor=actor, message=f"Cancelled by {actor}")
    return job


def _refuse_on_job(job: AllocationJob, actor, action: str, why: str, request_id: str) -> NoReturn:
    """Audit ``actor``'s refused ``action`` on ``job`` (a refusal is audited like a move's):
    the row is the refusing request's, not the job's (its own request id, no reason)."""
    with transaction.atomic():
        audit_record(
            kind=Kind.REFUSED,
            job=job,
            actor=actor,
            reason="",
            request_id=request_id,
            message=f"{action} refused: {why}",
        )
    raise MoveRefused("forbidden", why)


def jobs_sweep(*, now=None) -> list[int]:
    """Re-enqueue jobs that should be moving but are not (dead worker, lost message)."""
    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.ALLOCATION_STUCK_AFTER_SECONDS)
    swept: list[int] = []
    candidates = AllocationJob.objects.filter(
        Q(status=Status.RUNNING, lease_expires_at__lt=now)
        | Q(status__in=[Status.QUEUED, Status.RETRYING], next_attempt_at__lt=stuck_before)
    ).values_list("pk", flat=True)
    for job_id in list(candidates[:500]):
        with transaction.atomic():
            job = AllocationJob.objects.select_for_update(no_key=True).get(pk=job_id)
            lost_worker = job.status == Status.RUNNING and job.lease_expires_at < now
            lost_message = job.status in (Status.QUEUED, Status.RETRYING) and (
                job.next_attempt_at is not None and job.next_attempt_at < stuck_before
            )
            if not (lost_worker or lost_message):
                continue
            if lost_worker:
                job.status = Status.QUEUED
                audit_record(
                    kind=Kind.RETRY,
                    job=job,
                    message="The worker running this job stopped answering; re-queued",
                )
            job.next_attempt_at = now
            job.save(update_fields=["status", "next_attempt_at", "updated_at"])
            _enqueue_on_commit(job.pk)
            swept.append(job.pk)
    if swept:
        log.warning("Re-enqueued stuck jobs: %s", swept)
    return swept
