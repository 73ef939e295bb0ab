"""Reads the allocation services need: stale agents, the roster a job started from, a job by key."""

from __future__ import annotations

from collections import defaultdict

from dashboard.allocations.errors import JobNotFound
from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent


def stale_agents(expected: dict[str, int], agent_ids: list[str] | None = None) -> list[str]:
    """Agents whose roster version is no longer the one the requester saw, sorted.

    ``agent_ids`` limits the check to those agents (a batch checks its own agents, under their
    row locks); every agent of a move is in exactly one batch, so each is checked once.
    """
    if not expected:
        return []
    wanted = [a for a in expected if agent_ids is None or a in set(agent_ids)]
    current = dict(Agent.objects.filter(id__in=wanted).values_list("id", "roster_version"))
    return sorted(a for a in wanted if current.get(a) != expected[a])


def agent_workgroups(agent_ids: list[str]) -> dict[str, set[str]]:
    """agent id -> its workgroup ids, in one query (a move may hold 5,000 agents)."""
    groups: dict[str, set[str]] = defaultdict(set)
    rows = Agent.workgroups.through.objects.filter(agent_id__in=agent_ids).values_list(
        "agent_id", "workgroup_id"
    )
    for agent_id, workgroup_id in rows:
        groups[agent_id].add(workgroup_id)
    return groups


def roster_when_requested(job: AllocationJob) -> dict[str, list[str]]:
    requested = job.audit_events.filter(kind=AuditEvent.Kind.REQUESTED).values_list(
        "roster_before", flat=True
    )
    return next(iter(requested), {})


def existing_job(actor, key: str) -> AllocationJob | None:
    return AllocationJob.objects.filter(requested_by=actor, idempotency_key=key).first()


def job_by_id(job_id: int) -> AllocationJob:
    try:
        return AllocationJob.objects.get(pk=job_id)
    except AllocationJob.DoesNotExist:
        raise JobNotFound(f"There is no job {job_id}") from None
