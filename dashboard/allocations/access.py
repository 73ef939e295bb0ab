"""Who may do what with a move or a job: decided here, once, for the board, the API and the engine.

``move_refusal`` decides a new move (role, then the supervisor's workgroup scope); ``job_access``
decides an action on an existing job (cancel, retry, revert) by the same rule applied to the
job's agents, so a scoped supervisor can act only on jobs whose agents they could move.
"""

from __future__ import annotations

from dashboard.accounts import roles
from dashboard.allocations.errors import MoveForbidden
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.selectors import agent_workgroups

NO_MOVER_ROLE = "Your role may not move agents (supervisor or admin only)"
NO_CANCEL_ROLE = "Your role may not cancel moves"


def move_refusal(actor, agent_ids: list[str], *, action: str = "move") -> MoveForbidden | None:
    """None when ``actor`` may move all of ``agent_ids``; otherwise the refusal to raise."""
    if not roles.can_move_agents(actor):
        return MoveForbidden(NO_CANCEL_ROLE if action == "cancel" else NO_MOVER_ROLE)
    allowed = roles.allowed_workgroups(actor)
    if allowed is None:
        return None
    groups = agent_workgroups(agent_ids)
    outside = sorted(a for a in agent_ids if not groups.get(a, set()) & allowed)
    if not outside:
        return None
    verb = "move" if action == "move" else f"{action} moves of"
    return MoveForbidden(
        f"You may not {verb} agents outside your workgroups: {', '.join(outside[:10])}"
        + (f" and {len(outside) - 10} more" if len(outside) > 10 else "")
    )


def job_access(actor, job: AllocationJob, action: str) -> MoveForbidden | None:
    """None when ``actor`` may ``action`` ("cancel", "retry", "revert") ``job``."""
    return move_refusal(actor, list(job.agent_ids), action=action)


def may_act_on_job(actor, job: AllocationJob) -> bool:
    """For views deciding whether to offer Retry, Cancel or Revert on ``job``."""
    return job_access(actor, job, "act on") is None
