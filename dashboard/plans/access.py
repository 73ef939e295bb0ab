"""Who may do what with a plan: decided here, once, for the pages, the API and the beat.

A plan is a move that happens later, so the rules are the move's (``allocations.access``): a
supervisor or an admin, limited to the workgroups in the supervisor's scope. A workgroup plan is
judged by its workgroup (its agents change until it runs); an explicit plan by its agents. At run
time the plan's creator is checked again by ``job_submit`` (a role removed since refuses the run).
Every signed-in role that may see the board may read plans.
"""

from __future__ import annotations

from dashboard.accounts import roles
from dashboard.allocations.access import NO_MOVER_ROLE, move_refusal
from dashboard.plans.errors import PlanForbidden

NO_READ_ROLE = "Your account has no dashboard role; ask an administrator for one"


def plan_refusal(actor, *, agent_ids: list[str], workgroup_id: str | None) -> PlanForbidden | None:
    """None when ``actor`` may create (or change, pause, resume, delete) such a plan."""
    if not roles.can_move_agents(actor):
        return PlanForbidden(NO_MOVER_ROLE)
    if workgroup_id:
        allowed = roles.allowed_workgroups(actor)
        if allowed is not None and workgroup_id not in allowed:
            return PlanForbidden(
                f"You may not plan moves of workgroup {workgroup_id}: it is outside your scope"
            )
        return None
    refusal = move_refusal(actor, list(agent_ids))
    return PlanForbidden(refusal.message) if refusal is not None else None


def plan_access(actor, plan) -> PlanForbidden | None:
    """None when ``actor`` may change, pause, resume or delete ``plan``."""
    return plan_refusal(actor, agent_ids=list(plan.agent_ids), workgroup_id=plan.workgroup_id)


def may_change(actor, plan) -> bool:
    """For pages deciding whether to offer Edit, Pause, Resume and Delete."""
    return plan_access(actor, plan) is None


def require_reader(actor) -> None:
    if not roles.can_view_board(actor):
        raise PlanForbidden(NO_READ_ROLE)
