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
* Cost: a one-batch job's happy path is an unlocked read and two transactions, the claim and
  the outcome (see ``job_execute``), with set-based writes; a message for a job another run
  already took or ended is answered by that one read, with no transaction or lock.
* Coalescing (``coalesce``): queued one-batch jobs with the same campaigns go in one call; each
  keeps its own token, outcome and audit rows, and a 400 is split in halves until the job ICWS
  refused is alone, so one bad job cannot fail its neighbours.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from dashboard.allocations import coalesce, together
from dashboard.allocations.errors import moved_meanwhile
from dashboard.allocations.kept import Kept
from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.allocations.selectors import roster_when_requested
from dashboard.audit.models import AuditEvent
from dashboard.audit.search import resolve_names
from dashboard.audit.services import audit_record, insert_statements, inserted, next_ids_sql
from dashboard.directory.models import Agent, RosterEntry
from dashboard.directory.selectors import (
    campaign_names_query,
    roster_from_rows,
    roster_of,
    roster_query,
)
from icws_client import IcwsBadRequest, IcwsClient, IcwsError, IcwsTimeout

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
    """What ``job_execute`` asks of its caller: nothing, or to run again after ``retry_in``.

    ``others_later``: jobs sent in the same call (coalescing) that must run again, as
    ``(job id, seconds)``; their own queue messages may already be consumed."""

    status: str
    retry_in: float | None = None
    notes: list[str] = field(default_factory=list)
    others_later: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class _Run:
    """A job this worker holds: the row as claimed (its lease token is this worker's), all its
    batches as read at the claim, and the batch being sent now."""

    job: AllocationJob
    batches: list[JobBatch]
    batch: JobBatch
    sent_with: list[int] = field(default_factory=list)
    # (agent id -> name, campaign id -> name) read at the claim, for this run's audit rows.
    names: tuple[dict, dict] | None = None

    @property
    def last(self) -> bool:
        return self.batch is self.batches[-1]


def job_execute(*, job_id: int, client: IcwsClient) -> RunOutcome:
    """Run (or resume) a job: one allocate-agents call per unfinished batch, in order, with
    neighbours coalesced into a one-batch job's call (``coalesce``).

    Returns ``RunOutcome``; when ``retry_in`` is set the caller must run it again after that many
    seconds. Never raises for ICWS errors: they end in the job's state and the audit log.

    The happy path of a one-batch job is two transactions: the claim (lock, lease token, hold on
    the agents, batch marked sending, "started" row) and, after the send, the outcome (fenced
    success, roster, batch accepted, "succeeded" row). A job of n batches takes n + 1: each
    batch's outcome and the next batch's hold commit together.
    """
    now = timezone.now()
    # First without a lock or a transaction: most messages, in a busy queue, are for jobs a
    # neighbour's run already took or ended (coalescing), and the answer to those holds
    # whenever it is read (``_settled``). Locking such a row cost a transaction, a row lock and
    # its commit record. The job's agents and campaigns, which never change, come with it: the
    # claim's first round trip locks the row and reads everything else at once.
    [facts] = together.run([_JOB_FACTS(job_id)])[0].result or [None]
    if facts is None:
        _no_such_job(job_id)
    if (settled := _settled(*facts[:3], now)) is not None:
        return settled
    skip = connection.features.has_select_for_update_skip_locked
    try:
        claimed = _claim(job_id, facts[3:], now, skip_locked=skip)
    except _HeldElsewhere:
        # Another transaction holds the row: answered from what it committed when that holds
        # anyway, else waited for (the locked read then decides, as always).
        [facts] = together.run([_JOB_FACTS(job_id)])[0].result or [None]
        if facts is None:
            _no_such_job(job_id)
        if (settled := _settled(*facts[:3], now)) is not None:
            return settled
        claimed = _claim(job_id, facts[3:], now, skip_locked=False)
    if isinstance(claimed, RunOutcome):
        return claimed
    return _send_and_record(claimed, client)


class _HeldElsewhere(Exception):
    """The job's row was skipped (SKIP LOCKED): another transaction holds it."""


def _claim(job_id: int, facts, now, *, skip_locked: bool) -> list[_Run] | RunOutcome:
    """The claim's transaction: the job's row locked (``_JOB_LOCKED``) and looked at again,
    then its batches, agents and neighbours taken (``_prepare``). Returns the runs to send, or
    the job's outcome when there is nothing to send. ``facts``: the job's agents and campaigns,
    read before. Raises ``_HeldElsewhere`` (the transaction rolled back, its locks gone) when
    ``skip_locked`` and another transaction holds the row."""
    agent_ids, ins, outs = facts
    with transaction.atomic():
        # One round trip (``together``): the job's row locked first, as every locker takes it
        # (the agents' rows after it), its batches and, for a job of one batch, its agents
        # locked and whether any queued job could go in its call (``coalesce.probe``). The
        # agents are skipped, not waited for, when the row may be: the statements all run even
        # when the row was skipped, and waiting for an agent without the job's row would take
        # the locks out of order (a deadlock with the transaction that holds both).
        one = len(agent_ids) <= settings.ALLOCATION_BATCH_SIZE
        lock = _JOB_LOCKED(job_id, skip_locked)
        reads = _BATCHES(job_id)
        agents = _agents_locked(agent_ids, skip_locked=skip_locked) if one else None
        probe = coalesce.probe(job_id, ins, outs, len(agent_ids)) if one else None
        # For the "started" row: the campaigns' names and its id (``audit_record(pk=)``), read
        # here so that the row's INSERT goes with the claim's writes (``_prepare``), not in a
        # round trip of its own after them. An id not used (the job is settled, or the row was
        # skipped) is a gap in the ids, as a rolled-back insert leaves.
        campaigns = _CAMPAIGN_NAMES([*ins, *outs])
        first_id = together.raw_select(next_ids_sql(1))
        together.run([lock, reads, agents, probe, campaigns, first_id])
        [job] = lock.result or [None]
        if job is None and skip_locked:
            raise _HeldElsewhere
        if agents is not None and skip_locked and len(agents.result) < len(set(agent_ids)):
            # Some agents skipped (or unknown): with the job's row held, waited for in order.
            agents = together.run([_agents_locked(agent_ids)])[0]
        if job is None:
            _no_such_job(job_id)
        if (
            settled := _settled(job.status, job.lease_expires_at, job.next_attempt_at, now)
        ) is not None:
            return settled
        batches = reads.result
        todo = [b for b in batches if b.status in _UNSENT]
        if not todo:  # every batch has an outcome already; only the job's is missing
            taken_over = job.status == Status.RUNNING
            _claim_fields(job)
            _audit_started(job, taken_over=taken_over)
            return _finish_alone(job, batches)
        runs = [_Run(job, batches, todo[0])]
        locked = None
        if agents is not None and sorted(todo[0].agent_ids) == sorted(job.agent_ids):
            locked = agents.result  # the batch's agents (else _prepare locks them)
        if len(batches) == 1 and probe is not None and probe.result:
            runs += [_Run(j, [b], b) for j, b in coalesce.neighbours(job, todo[0])]
            if locked is not None:
                runs, locked = _with_neighbours(runs, locked)
        blocked = _prepare(
            runs,
            claim=True,
            taken_over=job.status == Status.RUNNING,
            locked=locked,
            started=(dict(campaigns.result), _ids_of(first_id)),
        )
        if blocked is not None:
            return blocked
    return runs


_UNSENT = (JobBatch.Status.PENDING, JobBatch.Status.SENDING)

# The claim's statements, compiled once per worker thread (``kept`` says why).
# of=self: a plain FOR UPDATE would lock the requesting user's row too, and every audit insert
# naming that user (FK check) would wait on it. no_key: FK checks from rows that reference the
# job must not wait on this lock.
_JOB_LOCKED = Kept(
    lambda job_id, skip_locked: together.select_models(
        AllocationJob.objects.select_for_update(of=("self",), no_key=True, skip_locked=skip_locked)
        .select_related("requested_by")
        .annotate(requested_roster=coalesce.requested_roster())
        .filter(pk=job_id)
    )
)
_BATCHES = Kept(
    lambda job_id: together.select_models(JobBatch.objects.filter(job_id=job_id).order_by("index"))
)


_JOB_FACTS = Kept(
    lambda job_id: together.select(
        AllocationJob.objects.filter(pk=job_id).values_list(
            "status",
            "lease_expires_at",
            "next_attempt_at",
            "agent_ids",
            "campaign_ids_in",
            "campaign_ids_out",
        )
    )
)


def _settled(status, lease_expires_at, next_attempt_at, now) -> RunOutcome | None:
    """The answer for a job that is over, held by a live lease or not due yet, whether its state
    was read under the row's lock or without it; None for a job to run. Each answer holds
    whenever it was read: an end is final, a live lease is another run's until it expires (the
    sweeper's case), and a job not due is run again when it is (its re-run looks again)."""
    if status in AllocationJob.TERMINAL:
        return RunOutcome(status)
    if status == Status.RUNNING and lease_expires_at and lease_expires_at > now:
        return RunOutcome(status, notes=["running elsewhere"])
    if status == Status.RETRYING and next_attempt_at and next_attempt_at > now:
        return RunOutcome(status, retry_in=(next_attempt_at - now).total_seconds())
    return None


def _no_such_job(job_id: int):
    raise AllocationJob.DoesNotExist(f"No job {job_id}")


def _send_and_record(runs: list[_Run], client: IcwsClient) -> RunOutcome:
    """Send the runs' batches as one call, record each job's outcome; for a job of several
    batches go on with the next one. Returns the first run's (the task's job's) outcome."""
    while True:
        results = _send(runs, client)
        primary = runs[0]
        outcome, later = None, []
        accepted = [(run, ms) for run, exc, ms in results if exc is None]
        for run, exc, ms in results:
            if exc is None:
                continue
            result = _batch_failed(run.job, run.batch, exc, ms)
            if run is primary:
                outcome = result
            elif result.retry_in is not None:
                later.append((run.job.pk, result.retry_in))
        nxt = None
        if accepted:
            nxt, blocked = _accept(accepted, primary)
            if blocked is not None and outcome is None:
                outcome = blocked
        if nxt is None:
            result = outcome or RunOutcome(primary.job.status)
            result.others_later += later
            return result
        runs = [nxt]


def _send(runs: list[_Run], client: IcwsClient, _split: bool = False):
    """One allocate-agents call for every run's batch: ``[(run, error or None, ms)]``.

    A 400 for several jobs' agents is split in halves until each part is accepted or is one
    job: one job's bad agent (one ICWS no longer knows, say) fails only that job."""
    agents = [a for run in runs for a in run.batch.agent_ids]
    job = runs[0].job
    started = time.monotonic()
    try:
        client.allocate_agents(agents, job.campaign_ids_in, job.campaign_ids_out)
    except IcwsBadRequest as exc:
        if len(runs) == 1:
            return [(runs[0], exc, _ms(started))]
        half = len(runs) // 2
        return _send(runs[:half], client, True) + _send(runs[half:], client, True)
    except IcwsError as exc:
        return [(run, exc, _ms(started)) for run in runs]
    return [(run, None, _ms(started)) for run in runs]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _audit_started(
    job, *, taken_over=False, sent_with=None, names=None, pk=None, defer=None
) -> None:
    message = f"Attempt {job.attempts}"
    if taken_over:
        message += " (took over from a worker whose lease expired)"
    if sent_with:
        message += f"; sent in one allocate-agents call with job(s) {_ids(sent_with)}"
    agent_names, campaign_names = names or (None, None)
    audit_record(
        pk=pk,
        kind=Kind.STARTED,
        job=job,
        message=message,
        agent_names=agent_names,
        campaign_names=campaign_names,
        defer=defer,
    )


def _insert_deferred(rows: list[AuditEvent], before=()) -> None:
    """Audit rows built with ``audit_record(defer=)``, inserted in one round trip
    (``together``) instead of one each: a coalesced call of n jobs writes n "started" rows at
    its claim and n "succeeded" rows at its outcome. What is written with each row goes in the
    same round trip (agentpage's ready-for-calls for a "succeeded" row's agents), and their
    signals go out as ``audit_record`` sends them. ``before``: statements sent first, in the
    same round trip (the claim's writes)."""
    together.run(
        [
            *before,
            *(
                together.Statement(sql, tuple(params))
                for row in rows
                for sql, params in insert_statements(row)
            ),
        ]
    )
    for row in rows:
        inserted(row)


def _ids(ids) -> str:
    return ", ".join(map(str, sorted(ids)))


def _claim_neighbours(runs: list[_Run]) -> tuple[list[_Run], list[int] | None]:
    """Claim the coalesced jobs in one UPDATE, guarded (still queued and untried): on PostgreSQL
    they are locked already; on SQLite the IMMEDIATE transaction keeps other writers out. Should
    the guard ever match fewer rows, the neighbours are let go and the job is sent alone.
    Returns the runs claimed and ids for their "started" rows, read with the UPDATE (None
    where the audit table has no sequence to take them from)."""
    if not runs:
        return [], []
    now = timezone.now()
    jobs = [run.job for run in runs]
    try:
        with transaction.atomic():
            lease = now + timedelta(seconds=settings.ALLOCATION_LEASE_SECONDS)
            claim = _NEIGHBOURS_CLAIMED([j.pk for j in jobs], now, lease, now)
            ids = together.raw_select(next_ids_sql(len(jobs)))
            together.run([claim, ids])
            claimed = claim.result
            if claimed != len(jobs):
                raise _NeighbourGone
    except _NeighbourGone:
        return [], []
    for job in jobs:  # the rows as the UPDATE left them (they were read under the same lock)
        job.status = Status.RUNNING
        job.attempts += 1
        job.lease_token += 1
        job.started_at = now
    return runs, _ids_of(ids)


def _ids_of(ids: together.Statement | None) -> list[int] | None:
    """The ids a ``next_ids_sql`` SELECT took (None: it had nothing to run)."""
    return [row[0] for row in ids.result] if ids is not None else None


_NEIGHBOURS_CLAIMED = Kept(
    # Each value one argument (kept binds each marker once): now twice.
    lambda job_ids, started, lease, now: together.update(
        AllocationJob.objects.filter(pk__in=job_ids, status=Status.QUEUED, attempts=0),
        status=Status.RUNNING,
        attempts=F("attempts") + 1,
        lease_token=F("lease_token") + 1,
        started_at=started,
        lease_expires_at=lease,
        updated_at=now,  # as AllocationJob's QuerySet.update() sets it
    )
)


class _NeighbourGone(Exception):
    pass


def _agents_locked(agent_ids: list[str], *, skip_locked: bool = False) -> together.Statement:
    """The SELECT that locks these agents (in id order, as every locker takes them) and reads
    what ``_prepare`` checks: ``(id, holding job id, roster version, name)``. ``skip_locked``:
    rows locked by another transaction are left out, not waited for."""
    skip_locked = skip_locked and connection.features.has_select_for_update_skip_locked
    return _AGENTS_LOCKED(list(agent_ids), skip_locked)


_AGENTS_LOCKED = Kept(
    lambda agent_ids, skip_locked: together.select(
        Agent.objects.select_for_update(no_key=True, skip_locked=skip_locked)
        .filter(id__any_of=agent_ids)
        .order_by("id")
        .values_list("id", "held_by_job_id", "roster_version", "name")
    )
)


def _with_neighbours(runs: list[_Run], locked: list[tuple]) -> tuple[list[_Run], list[tuple]]:
    """The primary's agents are locked already (``locked``): lock the neighbours' agents
    without waiting, and keep the neighbours whose agents all came back. Waiting here, with
    the primary's agents held and out of id order, could deadlock with another claim; a
    neighbour left out stays queued for its own run."""
    primary, others = runs[0], runs[1:]
    if not others:
        return runs, locked
    wanted = [a for run in others for a in run.batch.agent_ids]
    got = together.run([_agents_locked(wanted, skip_locked=True)])[0].result
    have = {row[0] for row in got}
    # An agent the directory does not know comes back from neither lock: the send's 400
    # splits it out, as it did when every agent was locked in one statement.
    known = (
        set(Agent.objects.filter(id__any_of=list(set(wanted) - have)).values_list("id", flat=True))
        if len(have) < len(set(wanted))
        else set()
    )
    kept = [r for r in others if not (set(r.batch.agent_ids) & known)]
    return [primary, *kept], locked + got


def _prepare(
    runs: list[_Run], *, claim: bool, taken_over: bool = False, locked=None, started=None
) -> RunOutcome | None:
    """Inside the caller's transaction, with ``runs[0].job`` locked (and fenced, when not
    ``claim``): lock the batches' agents, check they are not held by another live job and not
    moved since the requester saw them, then (``claim``) take the jobs, hold the agents and mark
    the batches sending. Returns None when ready to send, else the first job's outcome.

    Neighbours (``runs[1:]``) whose agents are held or stale are simply left queued: their own
    run meets the same check and says so.

    ``locked``: the rows of ``_agents_locked`` for every run's agents, read by the caller in a
    round trip it makes anyway (the claim's first reads, the previous batch's outcome); else
    they are read here. ``started`` (with ``claim``): the campaigns' names and the first job's
    id for its "started" row (None where the audit table has no sequence), read with the
    claim's first reads."""
    primary = runs[0]
    if locked is None:
        agent_ids = [a for run in runs for a in run.batch.agent_ids]
        locked = together.run([_agents_locked(agent_ids)])[0].result
    # agent id -> (holding job id, roster version, name); tuples, not models: a 5,000-agent
    # move locks 50 batches of them. The name is read here for the "started" rows, which saves
    # the claim a statement of its own.
    agents = {pk: (held_by, version, name) for pk, held_by, version, name in locked}
    holders = {
        run.job.pk: {agents[a][0] for a in run.batch.agent_ids if a in agents} - {None, run.job.pk}
        for run in runs
    }
    every_holder = set().union(*holders.values())
    live = set()
    if every_holder:
        live = set(
            AllocationJob.objects.filter(pk__in=every_holder)
            .exclude(status__in=AllocationJob.TERMINAL)
            .values_list("pk", flat=True)
        )
    if holders[primary.job.pk] & live:
        return _wait_for_other_jobs(primary.job, holders[primary.job.pk] & live, claimed=not claim)
    stale = {run.job.pk: _stale(run, agents) for run in runs}
    runs = [primary] + [r for r in runs[1:] if not (holders[r.job.pk] & live or stale[r.job.pk])]
    if stale[primary.job.pk]:
        runs = runs[:1]
    ids = None
    if claim:
        campaign_names, ids = started
        others, their_ids = _claim_neighbours(runs[1:])
        runs = [primary, *others]
        if ids is not None and their_ids is not None:
            ids = [*ids, *their_ids]
    going = not stale[primary.job.pk]
    now = timezone.now()
    # One round trip (``together``): the claim, the hold and the batches marked sending (when
    # the job goes ahead), and the "started" rows' INSERTs (on PostgreSQL, where their ids
    # were taken before: elsewhere each row is inserted as it is made, after the claim).
    writes = []
    if claim:
        writes.append(_claim_statement(primary.job))
    if going:
        writes += [_hold(runs), _SENDING([r.batch.pk for r in runs], now)]
    if claim and ids is not None:
        _insert_deferred(_started_rows(runs, agents, campaign_names, taken_over, ids), writes)
    else:
        together.run(writes)
        if claim:  # no ids to take first: each row inserted as it is made, after the claim
            _started_rows(runs, agents, campaign_names, taken_over, None)
    if not claim and primary.names is not None:
        # A later batch of a job: its agents' names, read with their locked rows, join the
        # claim's, so the "succeeded" row names every agent without a read of its own.
        primary.names[0].update({a: agents[a][2] for a in primary.batch.agent_ids if a in agents})
    if not going:
        return _fail(
            primary.job,
            ErrorKind.CONFLICT,
            f"{moved_meanwhile(stale[primary.job.pk], {a: row[2] for a, row in agents.items()})}"
            " Nothing was sent to ICWS for them.",
        )
    for run in runs:
        if run.batch.status == JobBatch.Status.SENDING:
            # The last send's answer was never recorded (worker killed or database gone
            # mid-call); see SAME_END_STATE for why it is sent again.
            audit_record(
                kind=Kind.RETRY,
                job=run.job,
                agent_ids=run.batch.agent_ids,
                message=f"Re-sending batch {run.batch.index + 1}: the previous send's outcome "
                f"was never recorded (worker or database lost mid-call); {SAME_END_STATE}",
                details={"batch": run.batch.index, "outcome_unknown": True},
            )
        run.batch.status = JobBatch.Status.SENDING
        run.batch.attempts += 1
        run.batch.sent_at = now
    return None


def _started_rows(runs: list[_Run], agents, campaign_names, taken_over: bool, ids):
    """A "started" row per run (the first job's claim set on it already), with ``ids``
    built and returned for the caller to insert; with None, each inserted as it is made."""
    sent_with = [r.job.pk for r in runs]
    # What resolve_names answers (directory.selectors.agent_names, campaign_names), with the
    # agents' names from the rows just locked.
    names = (
        {a: agents[a][2] for r in runs for a in r.batch.agent_ids if a in agents},
        campaign_names,
    )
    rows: list[AuditEvent] = []
    for i, run in enumerate(runs):
        run.sent_with = [pk for pk in sent_with if pk != run.job.pk]
        run.names = names
        _audit_started(
            run.job,
            taken_over=taken_over and run is runs[0],
            sent_with=run.sent_with,
            names=names,
            pk=ids[i] if ids is not None else None,
            defer=rows,
        )
    return rows


_SENDING = Kept(
    lambda batch_ids, now: together.update(
        JobBatch.objects.filter(pk__in=batch_ids),
        status=JobBatch.Status.SENDING,
        attempts=F("attempts") + 1,
        sent_at=now,
    )
)
_CAMPAIGN_NAMES = Kept(lambda ids: together.select(campaign_names_query(ids)))


def _claim_statement(job: AllocationJob) -> together.Statement:
    """The first job's claim (its row is locked): new token, lease, attempt, set on ``job`` and
    returned as its UPDATE, for the caller to send; no audit here."""
    now = timezone.now()
    job.status = Status.RUNNING
    job.attempts += 1
    job.lease_token += 1
    job.started_at = job.started_at or now
    job.lease_expires_at = now + timedelta(seconds=settings.ALLOCATION_LEASE_SECONDS)
    job.updated_at = now
    return _CLAIM(job.pk, job.attempts, job.lease_token, job.started_at, job.lease_expires_at, now)


_CLAIM = Kept(
    lambda job_id, attempts, token, started, lease, now: together.update(
        AllocationJob.objects.filter(pk=job_id),
        status=Status.RUNNING,
        attempts=attempts,
        lease_token=token,
        started_at=started,
        lease_expires_at=lease,
        updated_at=now,
    )
)


def _claim_fields(job: AllocationJob) -> None:
    """The first job's claim, written now (a job with no batch left to send)."""
    together.run([_claim_statement(job)])


def _stale(run: _Run, agents: dict[str, tuple[int | None, int, str]]) -> list[str]:
    """This batch's agents whose roster version is not the one the requester saw, read from
    the rows just locked (only this batch's: the others are checked when their batch is sent;
    a check of the whole move here failed every move of more than one batch)."""
    expected = run.job.expected_versions
    if not expected:
        return []
    return sorted(
        a
        for a in run.batch.agent_ids
        if a in expected and (a not in agents or agents[a][1] != expected[a])
    )


def _hold(runs: list[_Run]) -> together.Statement | None:
    """The runs' agents held by their jobs, as an UPDATE for the caller to send."""
    if len(runs) == 1:
        return _HOLD(list(runs[0].batch.agent_ids), runs[0].job.pk)
    if connection.vendor == "postgresql":
        # Each agent paired with its job as two array parameters: the CASE below compiled one
        # WHEN (an IN list) per job on every coalesced claim, the claim's costliest statement
        # to build.
        agents = [a for r in runs for a in r.batch.agent_ids]
        jobs = [r.job.pk for r in runs for _ in r.batch.agent_ids]
        return together.Statement(_hold_pairs_sql(), (agents, jobs))
    return together.update(
        Agent.objects.filter(pk__any_of=[a for r in runs for a in r.batch.agent_ids]),
        held_by_job=Case(
            *(When(pk__in=r.batch.agent_ids, then=Value(r.job.pk)) for r in runs),
            output_field=IntegerField(),
        ),
    )


def _hold_pairs_sql() -> str:
    quote = connection.ops.quote_name
    meta = Agent._meta
    pk, held = meta.pk, meta.get_field("held_by_job")
    return (
        f"UPDATE {quote(meta.db_table)} SET {quote(held.column)} = _pairs.job "  # noqa: S608
        f"FROM unnest(%s::{pk.db_type(connection)}[], %s::{held.db_type(connection)}[]) "
        "AS _pairs(agent, job) "
        f"WHERE {quote(meta.db_table)}.{quote(pk.column)} = _pairs.agent"
    )


_HOLD = Kept(
    lambda agent_ids, job_id: together.update(
        Agent.objects.filter(pk__any_of=agent_ids), held_by_job_id=job_id
    )
)


def _accept(
    accepted: list[tuple[_Run, int]], primary: _Run
) -> tuple[_Run | None, RunOutcome | None]:
    """One transaction for every accepted run: fence, roster, batches accepted, and for a
    run's last batch the job's success and its "succeeded" row; for a job with more batches,
    the next batch's hold too. Returns the run to send next (or None) and, when ``primary``'s
    write was refused or its next batch cannot go yet, its outcome."""
    refused = None
    with transaction.atomic():
        ours = _fence_all([run for run, _ in accepted])
        for run, ms in accepted:
            if run.job.pk not in ours:
                out = _refused(
                    run.job,
                    run.batch,
                    f"while the send was in flight; ICWS answered it (2xx) in {ms} ms",
                )
                refused = out if run is primary else refused
        accepted = [(run, ms) for run, ms in accepted if run.job.pk in ours]
        if not accepted:
            return None, refused
        runs = [run for run, _ in accepted]
        job = runs[0].job
        agent_ids = [a for run in runs for a in run.batch.agent_ids]
        finished = timezone.now()
        by_ms: dict[int, list[int]] = {}
        for run, ms in accepted:
            by_ms.setdefault(ms, []).append(run.batch.pk)
            run.batch.status, run.batch.finished_at, run.batch.duration_ms = (
                JobBatch.Status.ACCEPTED,
                finished,
                ms,
            )
        done = [run for run in runs if run.last]
        # Written after the fence, in one round trip (``together``): the roster, the agents'
        # new versions and released hold, the batches accepted and, for the jobs that end
        # here, the roster now and ids for their "succeeded" rows.
        roster = ids = None
        if done:
            roster = _ROSTER([a for r in done for a in r.job.agent_ids])
            ids = together.raw_select(next_ids_sql(len(done)))
        # A job with more batches (only a job alone has several): its next batch's agents are
        # locked and read in this round trip too, after this batch's agents were released.
        going_on = [run for run in runs if not run.last]
        nxt = locked = None
        if going_on:
            run = going_on[0]
            following = run.batches[run.batches.index(run.batch) + 1]
            nxt = _Run(run.job, run.batches, following, run.sent_with, run.names)
            if nxt.batch.status in _UNSENT:
                locked = _agents_locked(nxt.batch.agent_ids)
        together.run(
            [
                _ROSTER_OUT(agent_ids, job.campaign_ids_out),
                *together.insert_product_ignoring_conflicts(
                    RosterEntry,
                    {"agent_id": agent_ids, "campaign_id": job.campaign_ids_in},
                    {"source": "allocation", "since": finished},
                ),
                _RELEASED(agent_ids),
                # one UPDATE per distinct duration (usually one)
                *[_ACCEPTED(batch_ids, finished, ms) for ms, batch_ids in by_ms.items()],
                roster,
                ids,
                locked,
            ]
        )
        if done:
            _audit_succeeded(
                done,
                after=roster_from_rows([a for r in done for a in r.job.agent_ids], roster.result),
                ids=[row[0] for row in ids.result] if ids is not None else None,
            )
        if nxt is None:
            return None, refused
        if locked is None:  # the next batch failed or was skipped before: nothing left to send
            return None, _fail(nxt.job, ErrorKind.ICWS, "Some batches failed")
        blocked = _prepare([nxt], claim=False, locked=locked.result)
        return (None, blocked) if blocked is not None else (nxt, None)


# The outcome's statements, compiled once per worker thread (``kept``).
_ROSTER = Kept(lambda agent_ids: together.select(roster_query(agent_ids)))
_ROSTER_OUT = Kept(
    lambda agent_ids, outs: together.delete(
        RosterEntry.objects.filter(agent_id__any_of=agent_ids, campaign_id__any_of=outs)
    )
)
_RELEASED = Kept(
    lambda agent_ids: together.update(
        Agent.objects.filter(id__any_of=agent_ids),
        roster_version=F("roster_version") + 1,
        held_by_job=None,
    )
)
_ACCEPTED = Kept(
    lambda batch_ids, finished, ms: together.update(
        JobBatch.objects.filter(pk__in=batch_ids),
        status=JobBatch.Status.ACCEPTED,
        finished_at=finished,
        duration_ms=ms,
        error_status=None,
        error_id="",
        error_message="",
    )
)


def _finish_statement(job_ids, finished, now, *token):
    """The jobs marked succeeded, if still running (and, with a ``token``, still on it)."""
    rows = AllocationJob.objects.filter(pk__in=job_ids, status=Status.RUNNING)
    if token:
        rows = rows.filter(lease_token=token[0])
    fields = {**_success_fields(), "finished_at": finished, "updated_at": now}
    return together.update(rows, **fields)


_FINISH = Kept(_finish_statement)
_CURRENT = Kept(
    lambda job_ids: together.select(
        AllocationJob.objects.select_for_update(no_key=True)
        .filter(pk__in=job_ids, status=Status.RUNNING)
        .values_list("pk", "lease_token")
    )
)


def _fence_all(runs: list[_Run]) -> set[int]:
    """Inside the caller's transaction: the ids of the runs whose lease token is still current.
    Those rows stay locked until commit, with their lease extended, or, for a run's last batch,
    already marked succeeded: no takeover can slip in between this check and the writes."""
    lease = timezone.now() + timedelta(seconds=settings.ALLOCATION_LEASE_SECONDS)
    if len(runs) > 1:
        current = dict(together.run([_CURRENT([r.job.pk for r in runs])])[0].result)
        runs = [r for r in runs if current.get(r.job.pk) == r.job.lease_token]
    ours = set()
    finishing = [r for r in runs if r.last and not _has_failed(r)]
    going_on = [r for r in runs if r not in finishing]
    if finishing:
        fields = _success_fields()
        # One job: its own token fences it. Several were fenced by the SELECT above.
        finish = _FINISH(
            [r.job.pk for r in finishing],
            fields["finished_at"],
            fields["updated_at"],
            *([finishing[0].job.lease_token] if len(finishing) == 1 else []),
        )
        if together.run([finish])[0].result:
            ours.update(r.job.pk for r in finishing)
            for r in finishing:
                for name, value in fields.items():
                    setattr(r.job, name, value)
    for r in going_on:
        if AllocationJob.objects.filter(
            pk=r.job.pk, lease_token=r.job.lease_token, status=Status.RUNNING
        ).update(lease_expires_at=lease):
            ours.add(r.job.pk)
    return ours


def _has_failed(run: _Run) -> bool:
    return any(b.status == JobBatch.Status.FAILED for b in run.batches)


def _success_fields() -> dict:
    return _ended(
        status=Status.SUCCEEDED,
        error_kind="",
        error_class="",
        error_transient=False,
        error_status=None,
        error_id="",
        error_code=None,
        error_message="",
        updated_at=timezone.now(),
    )


def _audit_succeeded(
    runs: list[_Run], *, after: dict[str, list[str]] | None = None, ids: list[int] | None = None
) -> None:
    """One "succeeded" row per job: the roster each job's requester saw (from its "requested"
    row) and the roster now (``after``, when the caller read it), each read once for all the
    jobs. ``ids``: the rows' ids, taken from the audit sequence by the caller."""
    # Read with each job's row at its claim (coalesce.requested_roster); the row is never
    # changed, so this is what a read now would answer. A job loaded otherwise reads it here.
    unread = [r.job.pk for r in runs if not hasattr(r.job, "requested_roster")]
    before = {r.job.pk: r.job.requested_roster or {} for r in runs if r.job.pk not in unread}
    if unread:
        before.update(
            AuditEvent.objects.filter(job_id__in=unread, kind=Kind.REQUESTED).values_list(
                "job_id", "roster_before"
            )
        )
    if after is None:
        after = roster_of([a for r in runs for a in r.job.agent_ids])
    job = runs[0].job
    known = runs[0].names
    if known is not None and all(a in known[0] for a in after):
        agent_names, campaign_names = known  # read at the claim, in this worker
    else:  # a job of several batches: the claim named only the first batch's agents
        agent_names, campaign_names = resolve_names(
            list(after), [*job.campaign_ids_in, *job.campaign_ids_out]
        )
    rows: list[AuditEvent] = []
    for i, run in enumerate(runs):
        details = {"sent_with": sorted(run.sent_with)} if run.sent_with else None
        audit_record(
            pk=ids[i] if ids else None,
            kind=Kind.SUCCEEDED,
            job=run.job,
            message=run.job.describe(campaign_names) + " accepted by CIC",
            roster_before=before.get(run.job.pk, {}),
            roster_after={a: after[a] for a in run.job.agent_ids},
            duration_ms=sum(b.duration_ms for b in run.batches if b.duration_ms is not None),
            details=details,
            agent_names=agent_names,
            campaign_names=campaign_names,
            defer=rows,
        )
    _insert_deferred(rows)


def _finish_alone(job: AllocationJob, batches: list[JobBatch]) -> RunOutcome:
    """A claimed job with no batch left to send (its last outcome committed, the job's not)."""
    if any(b.status == JobBatch.Status.FAILED for b in batches):
        return _fail(job, ErrorKind.ICWS, "Some batches failed")
    run = _Run(job, batches, batches[-1])
    AllocationJob.objects.filter(pk=job.pk).update(**_success_fields())
    job.status = Status.SUCCEEDED
    _audit_succeeded([run])
    return RunOutcome(Status.SUCCEEDED)


def _wait_for_other_jobs(job: AllocationJob, holders: set[int], *, claimed: bool) -> RunOutcome:
    delay = 1.0
    AllocationJob.objects.filter(pk=job.pk).update(
        status=Status.RETRYING,
        lease_expires_at=None,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        # A worker still holding an older lease on this job can no longer write to it.
        lease_token=F("lease_token") + 1,
        # Waiting is not an attempt at ICWS: a job taken this run was not counted yet; one
        # waiting before its next batch had this attempt counted at its claim.
        **({"attempts": F("attempts") - 1} if claimed else {}),
    )
    return RunOutcome(
        Status.RETRYING,
        retry_in=delay,
        notes=[f"waiting for job(s) {_ids(holders)} on the same agents"],
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
        Agent.objects.filter(id__any_of=batch.agent_ids, held_by_job=job).update(held_by_job=None)
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


def job_fail_unexpectedly(*, job_id: int, error: str) -> None:
    """Last resort for a bug in the engine: the job still ends, with an audit row."""
    job = AllocationJob.objects.get(pk=job_id)
    if not job.is_terminal:
        # Unfenced: the job must end whichever worker holds it (a bug, not a race, got here).
        _fail(job, ErrorKind.INTERNAL, f"Internal error: {error}", fence=False)
