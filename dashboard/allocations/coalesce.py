"""Coalescing: ready jobs with the same campaigns in and out, sent as one allocate-agents call.

When a worker takes a one-batch job, it also takes other queued one-batch jobs that move agents
between the same campaigns, up to ``ALLOCATION_COALESCE_MAX`` jobs and ``ALLOCATION_BATCH_SIZE``
agents in all, and sends them together: one ICWS call and one transaction each side of it for
the lot, instead of per job. Each job keeps its own lease token, outcome and audit rows
(``execute``); on a 400 the call is split in halves until the job ICWS refused is alone, so one
bad job cannot fail its neighbours.

Which neighbours: never-attempted queued jobs (``attempts == 0``: a job that was tried before
runs alone, so its own retry and audit story stays simple) that are due, with exactly one
pending batch and no agent shared with the rest of the call. On PostgreSQL the rows are taken
with ``FOR UPDATE SKIP LOCKED``: a job another worker is taking is skipped, not waited for. SQLite
has no row locks; there every transaction is ``BEGIN IMMEDIATE`` (settings), so no other writer
can change a row between this read and the claim, and the claim is guarded anyway
(``execute._claim_neighbours`` takes only rows still queued and untried).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import JSONField, OuterRef, Subquery
from django.utils import timezone

from dashboard.allocations import together
from dashboard.allocations.kept import Fixed, Kept
from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.audit.models import AuditEvent

Status = AllocationJob.Status
# How many candidates are read per free place: some are dropped (shared agents, too big).
_READ_AHEAD = 2


def probe(job_id: int, ins: list[str], outs: list[str], agents: int) -> together.Statement | None:
    """Whether ``neighbours`` can find anything for job ``job_id`` (a one-batch job of
    ``agents`` agents, into ``ins`` and out of ``outs``), as a SELECT of at most one
    candidate's id, unlocked, for the caller to send with the claim's other reads: a lone job
    (the usual case when jobs are few) then pays no neighbour query. None when nothing could
    be coalesced with it anyway."""
    if settings.ALLOCATION_COALESCE_MAX <= 1 or agents >= settings.ALLOCATION_BATCH_SIZE:
        return None
    return _PROBE(job_id, ins, outs, timezone.now())


def _candidates(job: AllocationJob):
    return _candidates_of(job.pk, job.campaign_ids_in, job.campaign_ids_out, timezone.now())


def _candidates_of(job_id: int, ins: list[str], outs: list[str], now):
    return AllocationJob.objects.filter(
        status=Status.QUEUED,
        attempts=0,
        campaign_ids_in=ins,
        campaign_ids_out=outs,
        next_attempt_at__lte=now,
    ).exclude(pk=job_id)


# Compiled once per worker thread (``kept`` says why).
_PROBE = Kept(
    lambda job_id, ins, outs, now: together.select(
        _candidates_of(job_id, ins, outs, now).order_by().values_list("pk")[:1]
    )
)


def neighbours(job: AllocationJob, batch: JobBatch) -> list[tuple[AllocationJob, JobBatch]]:
    """Queued jobs to send in one call with ``job``'s ``batch``, locked (PostgreSQL) until the
    caller's transaction ends. Call inside that transaction, with ``job`` locked."""
    places = settings.ALLOCATION_COALESCE_MAX - 1
    room = settings.ALLOCATION_BATCH_SIZE - len(batch.agent_ids)
    if places <= 0 or room <= 0:
        return []
    skip_locked = connection.features.has_select_for_update_skip_locked
    [found] = together.run(
        [
            _NEIGHBOURS(
                job.pk,
                job.campaign_ids_in,
                job.campaign_ids_out,
                timezone.now(),
                Fixed(places * _READ_AHEAD),
                skip_locked,
            )
        ]
    )
    if not found.result:
        return []
    batches: dict[int, list[JobBatch]] = {}
    [own] = together.run([_THEIR_BATCHES([j.pk for j in found.result])])
    for b in own.result:
        batches.setdefault(b.job_id, []).append(b)
    found = found.result
    taken, agents = [], set(batch.agent_ids)
    for other in found:
        own = batches.get(other.pk, [])
        if len(own) != 1 or own[0].status != JobBatch.Status.PENDING:
            continue
        ids = own[0].agent_ids
        if len(ids) > room or agents.intersection(ids):
            continue
        taken.append((other, own[0]))
        agents.update(ids)
        room -= len(ids)
        if len(taken) == places or room <= 0:
            break
    return taken


def _neighbours_statement(job_id, ins, outs, now, limit: int, skip_locked: bool):
    rows = _candidates_of(job_id, ins, outs, now)
    if skip_locked:
        rows = rows.select_for_update(of=("self",), no_key=True, skip_locked=True)
    return together.select_models(
        rows.select_related("requested_by")
        .annotate(requested_roster=requested_roster())
        .order_by("id")[:limit]
    )


_NEIGHBOURS = Kept(_neighbours_statement)
_THEIR_BATCHES = Kept(
    lambda job_ids: together.select_models(JobBatch.objects.filter(job_id__in=job_ids))
)


def requested_roster() -> Subquery:
    """The roster the requester saw (their job's "requested" audit row), read with the job's
    row at its claim: its "succeeded" row needs it, and a statement of the outcome's
    transaction is saved. None when the job has no such row."""
    return Subquery(
        AuditEvent.objects.filter(job_id=OuterRef("pk"), kind=AuditEvent.Kind.REQUESTED).values(
            "roster_before"
        )[:1],
        output_field=JSONField(),
    )
