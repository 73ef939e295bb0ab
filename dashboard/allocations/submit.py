"""Submitting a move: validate, check who may, queue the job and its batches, enqueue on commit.

Also the actions on a queued or failed job a supervisor takes (retry, cancel). Every refusal is
audited in words (``Kind.REFUSED``), except repeated attempts by users with no role at all: those
are summarised (one row per window, naming how many were not written), so a signed-in account
without a role cannot fill the audit log. Who may is decided in ``access``; refusals are the
classes in ``errors``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery
from django.utils import timezone

from dashboard.accounts import roles
from dashboard.allocations import together
from dashboard.allocations.access import job_access, move_refusal
from dashboard.allocations.errors import InvalidMove, MoveConflict, MoveRefused, moved_meanwhile
from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.allocations.move_reads import MoveReads, read_move
from dashboard.allocations.selectors import existing_job, job_by_id
from dashboard.allocations.tasks import enqueue_job
from dashboard.approvals.gate import approval_details, move_gate
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.core.prepared import PreparedInsert

log = logging.getLogger(__name__)

Status = AllocationJob.Status
Kind = AuditEvent.Kind
MAX_REASON = 500
MAX_ID = 200
MAX_IDEMPOTENCY_KEY = 200
# A refusal row lists at most this many agents (and their rosters) plus the count: a refused
# 5,000-agent move would otherwise write a row of hundreds of kilobytes.
REFUSAL_AGENTS_KEPT = 50
# Users with no role: one refusal row per this window, the rest counted into the next row.
ROLELESS_AUDIT_WINDOW = timedelta(minutes=10)
# C0/C1 controls except tab and newlines; the Unicode categories Cf (format: zero-width, bidi
# marks, overrides and isolates, BOM), Zl and Zp (line and paragraph separators) are checked
# by category below.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Lone surrogates: a regular expression, not a loop over the characters (91 a one-agent POST).
_SURROGATES = re.compile("[\ud800-\udfff]")
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zl", "Zp"})


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
    reason_code: str | None = None,
    approval=None,
) -> tuple[AllocationJob, bool]:
    """Validate and queue a move. Returns ``(job, created)``; raises a ``MoveRefused``.

    The same ``idempotency_key`` from the same user returns the existing job (``created`` False);
    reusing a key for a different move is refused. A move that needs four-eyes approval raises
    ``ApprovalPending`` (202) instead; ``approval`` is the granted approval a move runs under.
    """
    if not roles.can_move_agents(actor):
        # Before validation: a user who may not move learns nothing about which agents exist.
        _refuse_unvalidated(actor, agent_ids, campaign_ids_in, campaign_ids_out, reason, request_id)
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidMove(
                "Idempotency-Key must be 1 to 200 characters",
                {"idempotency_key": "must be 1 to 200 characters"},
            )
        existing = existing_job(actor, idempotency_key)
        if existing is not None:
            _check_same_move(existing, agent_ids, campaign_ids_in, campaign_ids_out)
            return existing, False

    agents, ins, outs, reason, reads = _validate_move(
        agent_ids, campaign_ids_in, campaign_ids_out, reason
    )
    expected = _validate_expected(expected_versions, agents)
    # Four-eyes approval decides here, once the move is valid and before the scope check.
    scope_of, reason = move_gate(
        actor=actor,
        agent_ids=agents,
        campaign_ids_in=ins,
        campaign_ids_out=outs,
        reason=reason,
        reason_code=reason_code,
        idempotency_key=idempotency_key,
        expected_versions=expected,
        request_id=request_id,
        approval=approval,
        revert_of=revert_of,
    )

    refusal = move_refusal(scope_of, agents) or _conflict_refusal(expected, reads)
    if refusal is not None:
        kept = agents[:REFUSAL_AGENTS_KEPT]
        audit_record(
            kind=Kind.REFUSED,
            actor=actor,
            agent_ids=kept,
            campaign_ids_in=ins,
            campaign_ids_out=outs,
            reason=reason,
            roster_before={a: reads.rosters[a] for a in kept},
            message=refusal.message,
            request_id=request_id,
            details=_count_details(agents),
            agent_names=reads.agent_names,
            campaign_names=reads.campaign_names,
        )
        raise refusal

    try:
        with transaction.atomic():
            job = AllocationJob(
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
            batches = [
                JobBatch(index=i, agent_ids=agents[start : start + size])
                for i, start in enumerate(range(0, len(agents), size))
            ]
            audit_id = _insert_job(job, batches)
            audit_record(
                kind=Kind.REQUESTED,
                job=job,
                roster_before=reads.rosters,
                message=job.describe(reads.campaign_names),
                details=approval_details(approval),
                agent_names=reads.agent_names,
                campaign_names=reads.campaign_names,
                pk=audit_id,
            )
            _enqueue_on_commit(job.pk)
    except IntegrityError:
        # Two submits with one key raced; the other one won.
        existing = existing_job(actor, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return existing, False
    return job, True


def _insert_job(job: AllocationJob, batches: list[JobBatch]) -> int | None:
    """Write ``job`` and its ``batches``, in the caller's transaction; returns an id for the
    job's "requested" audit row (``audit_record(pk=)``), or None where the row takes its own.

    On PostgreSQL the two inserts go in one round trip with the ids they need: the job's id and
    the audit row's from their sequences, the batches' job id as the job's (``currval``), so the
    job is one round trip and the audit row one INSERT (its seal computed before, not UPDATEd
    after). The job was an INSERT, the batches another, the audit row an INSERT and an UPDATE:
    four round trips, each waiting for PostgreSQL to be scheduled under load. Elsewhere the ORM
    writes them as before. Same rows, same constraints (a raced idempotency key still fails the
    job's INSERT with an IntegrityError)."""
    if connection.vendor != "postgresql":
        job.save(force_insert=True)
        for batch in batches:
            batch.job = job
        JobBatch.objects.bulk_create(batches)
        return None
    for batch in batches:
        batch.job_id = _THE_JOB_ID
    ids, *_ = together.run(
        [
            together.raw_select(
                (f"SELECT nextval({_JOB_SEQUENCE}), nextval({_AUDIT_SEQUENCE})", ())
            ),
            together.Statement(*_JOB_INSERT.statement(job)),
            *(
                [together.Statement(*_BATCH_INSERT.statement(batches[0]))]
                if len(batches) == 1
                else _inserts(JobBatch, batches)
            ),
        ]
    )
    job_id, audit_id = ids.result[0]
    job.pk = job_id
    job._state.adding, job._state.db = False, connection.alias
    for batch in batches:
        batch.job = job
    return audit_id


_JOB_SEQUENCE = f"pg_get_serial_sequence('{AllocationJob._meta.db_table}', 'id')"
_AUDIT_SEQUENCE = f"pg_get_serial_sequence('{AuditEvent._meta.db_table}', 'id')"
# The batches' job id, one expression for every submit: a RawSQL builds an output Field() of
# its own (Field.__init__), 1.5% of a token POST's CPU when made per call.
_THE_JOB_ID = RawSQL(f"currval({_JOB_SEQUENCE})", ())  # noqa: S611 - table names only


def _insert_fields(model, *, with_id: bool) -> list:
    """The fields ``bulk_create`` writes: all but generated ones, the id only when given."""
    auto = model._meta.auto_field
    return [
        f for f in model._meta.concrete_fields if not f.generated and (with_id or f is not auto)
    ]


# The job's row and a lone batch's, their SQL built once (``core.prepared``).
_JOB_INSERT = PreparedInsert(
    AllocationJob,
    _insert_fields(AllocationJob, with_id=True),
    sql_values={"id": f"currval({_JOB_SEQUENCE})"},
)
_BATCH_INSERT = PreparedInsert(
    JobBatch,
    _insert_fields(JobBatch, with_id=False),
    sql_values={"job_id": f"currval({_JOB_SEQUENCE})"},
)


def _inserts(model, objs: list) -> list[together.Statement]:
    """A plain INSERT of new ``objs``, compiled, not run: the SQL and parameters
    ``bulk_create`` sends (their ids left to the database)."""
    query = InsertQuery(model)
    query.insert_values(_insert_fields(model, with_id=False), objs)
    return [
        together.Statement(sql, tuple(params))
        for sql, params in query.get_compiler(connection.alias).as_sql()
    ]


def _count_details(agents: list) -> dict | None:
    if len(agents) <= REFUSAL_AGENTS_KEPT:
        return None
    return {"agent_count": len(agents), "agents_listed": REFUSAL_AGENTS_KEPT}


def _refuse_unvalidated(actor, agent_ids, ins, outs, reason, request_id: str) -> NoReturn:
    """Refuse a user whose role may not move, from input not yet validated: only clean, capped
    parts of it go into the audit row."""
    refusal = move_refusal(actor, [])
    assert refusal is not None
    write, note = _refusal_audit_due(actor)
    if not write:
        raise refusal
    agents = _loose_ids(agent_ids)
    details = {**(_count_details(agents) or {}), **note}
    audit_record(
        kind=Kind.REFUSED,
        actor=actor,
        agent_ids=agents[:REFUSAL_AGENTS_KEPT],
        campaign_ids_in=_loose_ids(ins)[:REFUSAL_AGENTS_KEPT],
        campaign_ids_out=_loose_ids(outs)[:REFUSAL_AGENTS_KEPT],
        reason=reason[:MAX_REASON] if isinstance(reason, str) and not _text_problem(reason) else "",
        message=refusal.message + _unrecorded_text(note),
        request_id=request_id,
        details=details or None,
    )
    raise refusal


def _refusal_audit_due(actor) -> tuple[bool, dict]:
    """Whether this refusal gets its own audit row, and what to say about the ones that did not.

    Users with a role are audited every time. A user with no role gets one row per window; the
    refusals in between are counted and the count goes into the next row."""
    if roles.roles_of(actor):
        return True, {}
    key = f"allocations:roleless-refusals:{actor.pk}"
    since = timezone.now() - ROLELESS_AUDIT_WINDOW
    if AuditEvent.objects.filter(kind=Kind.REFUSED, actor=actor, at__gte=since).exists():
        if cache.add(key, 1, timeout=None) is False:
            cache.incr(key)
        log.warning("Refused request by %s (no role) not audited: one was, recently", actor)
        return False, {}
    unrecorded = cache.get(key, 0)
    cache.delete(key)
    return True, ({"unrecorded_attempts": unrecorded} if unrecorded else {})


def _unrecorded_text(note: dict) -> str:
    if not note:
        return ""
    return f" ({note['unrecorded_attempts']} refused attempt(s) by this user were not recorded)"


def _loose_ids(value) -> list[str]:
    if not isinstance(value, list | tuple):
        return []
    return [v for v in value if isinstance(v, str) and len(v) <= MAX_ID and not _text_problem(v)]


def _check_same_move(job: AllocationJob, agent_ids, ins, outs) -> None:
    same = (
        list(agent_ids or []) == job.agent_ids
        and list(ins or []) == job.campaign_ids_in
        and list(outs or []) == job.campaign_ids_out
    )
    if not same:
        raise MoveConflict(
            f"This Idempotency-Key was already used for job {job.pk}, a different move",
            {"idempotency_key": "already used for a different move"},
        )


def _text_problem(text: str) -> str | None:
    """What makes ``text`` unfit to store, or None. Lone surrogates cannot be encoded for either
    database (a 500 otherwise)."""
    if _SURROGATES.search(text):
        return "must be valid Unicode text (no lone surrogates)"
    if _CONTROLS.search(text):
        return "control characters are not allowed"
    return None


def reason_problem(reason: str) -> str | None:
    """What is wrong with a reason a person gives (a move's, an approval decision's), or None."""
    if problem := _text_problem(reason):
        return problem
    # A reason is evidence: invisible and direction characters could make the audit page show
    # something other than what was stored.
    for at, ch in enumerate(reason):
        if unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
            # Which one and where: it does not show (or shows the text around it reversed).
            name = unicodedata.name(ch, "")
            where = f" after “{reason[max(0, at - 20) : at]}”" if at else " at the start"
            return (
                "invisible, control or text-direction characters are not allowed: "
                f"U+{ord(ch):04X}{f' {name}' if name else ''}{where} (pasted text can bring "
                "one in: type that part again)"
            )
    return None


def clean_id_list(value, name: str, errors: dict[str, str]) -> list[str]:
    """``value`` as a list of stripped ids (a move's agents or campaigns, a plan's); what is
    wrong with it goes into ``errors[name]`` (not a list, empty, too long or unstorable ids,
    duplicates)."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        errors[name] = "must be a list of ids"
        return []
    ids = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_ID:
            errors[name] = "must contain only non-empty ids of at most 200 characters"
            return []
        if problem := _text_problem(item):
            errors[name] = f"ids {problem}"
            return []
        ids.append(item.strip())
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        errors[name] = f"lists an id more than once: {', '.join(dupes[:10])}"
    return ids


def _validate_move(
    agent_ids, ins, outs, reason
) -> tuple[list[str], list[str], list[str], str, MoveReads]:
    """The move's clean agents, campaigns in and out and reason, and what the submit reads about
    them (``move_reads``: the names that show they exist, for the audit rows too; versions and
    rosters)."""
    errors: dict[str, str] = {}
    agents = clean_id_list(agent_ids, "agent_ids", errors)
    ins_ = clean_id_list(ins, "campaign_ids_in", errors)
    outs_ = clean_id_list(outs, "campaign_ids_out", errors)
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
    elif problem := reason_problem(reason):
        errors["reason"] = problem
    reads = MoveReads()
    if not errors:
        reads = read_move(agents, ins_ + outs_)
        known_agents = reads.agent_names.keys()
        unknown = [a for a in agents if a not in known_agents]
        if unknown:
            errors["agent_ids"] = f"unknown agents: {', '.join(unknown[:10])}"
        campaigns = reads.campaign_names.keys()
        for name, ids in (("campaign_ids_in", ins_), ("campaign_ids_out", outs_)):
            missing = [c for c in ids if c not in campaigns]
            if missing:
                errors[name] = f"unknown campaigns: {', '.join(missing[:10])}"
    if errors:
        raise InvalidMove(
            "The move is not valid: " + "; ".join(f"{k}: {v}" for k, v in errors.items()), errors
        )
    return agents, ins_, outs_, reason.strip(), reads


def _validate_expected(expected, agents: list[str]) -> dict[str, int]:
    if expected is None:
        return {}
    # bool is an int in Python: {"a1": true} is not version 1.
    if not isinstance(expected, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in expected.items()
    ):
        raise InvalidMove(
            "expected_versions must map agent ids to roster versions (integers)",
            {"expected_versions": "must map agent ids to non-negative integers"},
        )
    extra = sorted(set(expected) - set(agents))
    if extra:
        raise InvalidMove(
            f"expected_versions names agents not in the move: {', '.join(extra[:10])}",
            {"expected_versions": "names agents not in the move"},
        )
    return dict(expected)


def _conflict_refusal(expected: dict[str, int], reads: MoveReads) -> MoveConflict | None:
    stale = reads.stale_agents(expected)
    if stale:
        return MoveConflict(
            f"{moved_meanwhile(stale, reads.agent_names)} Reload and try again.",
            {"expected_versions": "stale"},
        )
    return None


def _enqueue_on_commit(job_id: int) -> None:
    transaction.on_commit(lambda: enqueue_job(job_id))


# -- actions on an existing job -------------------------------------------------------------------


def job_retry(*, job_id: int, actor, request_id: str = "") -> AllocationJob:
    """Send a failed job's move again, as a new job (the failed one keeps its record).

    The new job is an ordinary submit: roles, validation and the audit trail apply as usual.
    Batches the failed job had applied are sent again (why that is safe: execute.SAME_END_STATE).
    """
    job = job_by_id(job_id)
    if refusal := job_access(actor, job, "retry"):
        _refuse_on_job(job, actor, "Retry", refusal, request_id)
    if job.status != Status.FAILED:
        raise MoveConflict(f"Job {job.pk} is {job.status}; only failed jobs are retried")
    key = f"retry-of-{job.pk}"
    reason = f"Retry of job {job.pk}" + (f": {job.reason}" if job.reason else "")
    with transaction.atomic():
        # Locked so two supervisors retrying at once give one retry: the idempotency key is
        # per requester, so without this each would send the move again.
        AllocationJob.objects.select_for_update(no_key=True).filter(pk=job.pk).first()
        earlier = (
            AllocationJob.objects.filter(idempotency_key=key)
            .exclude(requested_by=actor)
            .select_related("requested_by")
            .first()
        )
        if earlier is not None:
            raise MoveConflict(
                f"Job {job.pk} was already retried as job {earlier.pk} by {earlier.requested_by}"
            )
        retry, _ = job_submit(
            actor=actor,
            agent_ids=job.agent_ids,
            campaign_ids_in=job.campaign_ids_in,
            campaign_ids_out=job.campaign_ids_out,
            reason=reason[:MAX_REASON],
            idempotency_key=key,
            request_id=request_id,
        )
    return retry


def job_cancel(*, job_id: int, actor, request_id: str = "") -> AllocationJob:
    """Cancel a job that has not started sending; a running job cannot be stopped mid-call."""
    job = job_by_id(job_id)
    if refusal := job_access(actor, job, "cancel"):
        _refuse_on_job(job, actor, "Cancel", refusal, request_id)
    with transaction.atomic():
        job = AllocationJob.objects.select_for_update(no_key=True).get(pk=job_id)
        if job.status not in (Status.QUEUED, Status.RETRYING):
            raise MoveConflict(f"Job {job.pk} is {job.status}; it cannot be cancelled")
        JobBatch.objects.filter(job=job, status=JobBatch.Status.PENDING).update(
            status=JobBatch.Status.SKIPPED
        )
        job.status = Status.CANCELLED
        job.finished_at = timezone.now()
        job.next_attempt_at = None
        job.save()
        audit_record(kind=Kind.CANCELLED, job=job, actor=actor, message=f"Cancelled by {actor}")
    return job


def _refuse_on_job(
    job: AllocationJob, actor, action: str, refusal: MoveRefused, request_id: str
) -> NoReturn:
    """Audit ``actor``'s refused ``action`` on ``job`` (a refusal is audited like a move's):
    the row is the refusing request's, not the job's (its own request id, no reason)."""
    write, note = _refusal_audit_due(actor)
    if not write:
        raise refusal
    with transaction.atomic():
        audit_record(
            kind=Kind.REFUSED,
            job=job,
            actor=actor,
            agent_ids=job.agent_ids[:REFUSAL_AGENTS_KEPT],
            reason="",
            request_id=request_id,
            message=f"{action} refused: {refusal.message}" + _unrecorded_text(note),
            details={**(_count_details(job.agent_ids) or {}), **note} or None,
        )
    raise refusal
