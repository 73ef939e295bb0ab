"""Undoing a succeeded move for the agents nobody has moved since.

For each agent of the job, the roster it left (``roster_after`` of the job's SUCCEEDED event)
is compared with the roster now: where they are equal, the agent goes back to its roster before
the job (limited to the campaigns the job touched); where they differ, someone moved it since,
and it is listed and left alone. Agents that need the same campaigns in and out share a job.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from dashboard.allocations.access import job_access
from dashboard.allocations.errors import MoveConflict
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.selectors import job_by_id
from dashboard.allocations.submit import job_submit
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent
from dashboard.directory.selectors import roster_of

NOTHING_TO_REVERT = (
    "Nothing to revert: each agent is reverted already, being reverted, or moved since"
)


@dataclass
class RevertGroup:
    agent_ids: list[str]
    campaign_ids_in: list[str]
    campaign_ids_out: list[str]


@dataclass
class RevertPlan:
    job: AllocationJob
    groups: list[RevertGroup] = field(default_factory=list)
    left_alone: dict[str, str] = field(default_factory=dict)  # agent id -> why

    @property
    def agent_count(self) -> int:
        return sum(len(g.agent_ids) for g in self.groups)


def job_revert_plan(*, job_id: int) -> RevertPlan:
    job = job_by_id(job_id)
    if job.status != AllocationJob.Status.SUCCEEDED:
        raise MoveConflict(f"Job {job.pk} is {job.status}; only succeeded moves revert")
    done = job.audit_events.filter(kind=AuditEvent.Kind.SUCCEEDED).order_by("-id").first()
    if done is None:
        raise MoveConflict(f"Job {job.pk} has no success record to revert from")
    touched = set(job.campaign_ids_in) | set(job.campaign_ids_out)
    now = roster_of(job.agent_ids)
    # Earlier reverts of this job that did not fail: their agents are done, or on their way.
    reverted: dict[str, AllocationJob] = {}
    for earlier in job.reverts.exclude(
        status__in=[AllocationJob.Status.FAILED, AllocationJob.Status.CANCELLED]
    ).order_by("pk"):
        reverted.update(dict.fromkeys(earlier.agent_ids, earlier))
    plan = RevertPlan(job=job)
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = defaultdict(list)
    for agent_id in job.agent_ids:
        after = sorted(done.roster_after.get(agent_id, []))
        before = set(done.roster_before.get(agent_id, []))
        if agent_id in reverted:
            earlier = reverted[agent_id]
            done_now = earlier.status == AllocationJob.Status.SUCCEEDED
            plan.left_alone[agent_id] = (
                f"{'already reverted' if done_now else 'being reverted'} by job {earlier.pk}"
            )
            continue
        if now.get(agent_id, []) != after:
            plan.left_alone[agent_id] = (
                "moved since this job (roster now: "
                + (", ".join(now.get(agent_id, [])) or "no campaign")
                + ")"
            )
            continue
        ins = tuple(sorted((before - set(after)) & touched))
        outs = tuple(sorted((set(after) - before) & touched))
        if not ins and not outs:
            plan.left_alone[agent_id] = "nothing to undo (the move did not change it)"
            continue
        groups[(ins, outs)].append(agent_id)
    plan.groups = [RevertGroup(agents, list(i), list(o)) for (i, o), agents in groups.items()]
    return plan


def job_revert(
    *, job_id: int, actor, request_id: str = "", reason: str = ""
) -> tuple[list[AllocationJob], RevertPlan]:
    """Queue the revert: one job per group, each linked to the original (``revert_of``).
    ``reason`` (what the supervisor typed) follows "Revert of job N: "."""
    if refusal := job_access(actor, job_by_id(job_id), "revert"):
        raise refusal
    plan = job_revert_plan(job_id=job_id)
    if not plan.groups:
        raise MoveConflict(NOTHING_TO_REVERT)
    versions = dict(
        Agent.objects.filter(id__in=[a for g in plan.groups for a in g.agent_ids]).values_list(
            "id", "roster_version"
        )
    )
    # Keys change only when an earlier revert failed or was cancelled (then a new try is due):
    # two posts racing on one plan share them, so the second gets the first's job back.
    earlier = plan.job.reverts.filter(
        status__in=[AllocationJob.Status.FAILED, AllocationJob.Status.CANCELLED]
    ).count()
    jobs = []
    for index, group in enumerate(plan.groups):
        revert, _ = job_submit(
            actor=actor,
            agent_ids=group.agent_ids,
            campaign_ids_in=group.campaign_ids_in,
            campaign_ids_out=group.campaign_ids_out,
            reason=f"Revert of job {plan.job.pk}" + (f": {reason}" if reason else ""),
            idempotency_key=f"revert-of-{plan.job.pk}-{earlier}-{index}",
            # The plan read these versions: a move in between is a conflict, not overwritten.
            expected_versions={a: versions[a] for a in group.agent_ids},
            request_id=request_id,
            revert_of=plan.job,
        )
        jobs.append(revert)
    return jobs, plan
