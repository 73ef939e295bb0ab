"""Four-eyes approval of plans, through the approvals app's gate (``dashboard.approvals.gate``).

A plan needs approval when the gate says so for ``kind="plan"`` (``APPROVAL_REQUIRED_FOR``:
``plan`` for every plan; ``large`` and ``out_of_scope`` judged on the plan's agents now). Such a
plan is saved waiting for approval and runs nothing until a second supervisor or an admin grants
it; a rejected or expired request leaves it not approved (an edit asks again). A granted plan's
runs and reverts are submitted under its approval, so the move's own gate does not ask again at
17:00 with nobody there to answer; their scope is the approver's, as for any approved move.
"""

from __future__ import annotations

from django.utils import timezone

from dashboard.approvals.gate import OUT_OF_SCOPE, approval_needs
from dashboard.approvals.models import Approval
from dashboard.approvals.request import on_decision, request_approval
from dashboard.plans.models import Plan


def plan_needs(actor, agent_ids: list[str]) -> list[tuple[str, str]]:
    return approval_needs(Approval.Kind.PLAN, requester=actor, agent_ids=agent_ids)


def waives_scope(needs: list[tuple[str, str]]) -> bool:
    """An out-of-scope plan waits for an approver whose scope covers it, instead of refused."""
    return any(need == OUT_OF_SCOPE for need, _ in needs)


def ask(plan: Plan, actor, needs, agent_ids: list[str], summary: str, request_id: str) -> None:
    """Request approval of this revision; the plan waits (the caller's transaction)."""
    approval, _ = request_approval(
        kind=Approval.Kind.PLAN,
        requester=actor,
        agent_ids=agent_ids,
        campaign_ids_in=list(plan.campaign_ids_in),
        campaign_ids_out=list(plan.campaign_ids_out),
        reason=plan.reason,
        needs=needs,
        idempotency_key=f"plan-{plan.pk}-revision-{plan.revision}",
        request_id=request_id,
        subject_id=plan.pk,
        summary=f"Plan {summary}",
    )
    plan.approval = approval
    plan.status = Plan.Status.AWAITING
    plan.save(update_fields=["approval", "status", "updated_at"])


def granted_approval(plan: Plan) -> Approval | None:
    """The approval the plan's runs are submitted under, when it has one granted."""
    if plan.approval_id and plan.approval.status == Approval.Status.APPROVED:
        return plan.approval
    return None


def _decided(approval: Approval, status: str) -> None:
    plan = Plan.objects.select_for_update().filter(pk=approval.subject_id).first()
    if plan is None or plan.approval_id != approval.pk or plan.status != Plan.Status.AWAITING:
        return  # edited since (a newer request), deleted, or decided already
    plan.status = status
    # Runs from the decision on: an approval given at 17:05 does not start the 17:00 run late.
    plan.runs_from = timezone.now()
    plan.save(update_fields=["status", "runs_from", "updated_at"])


def register() -> None:
    on_decision(
        Approval.Kind.PLAN,
        granted=lambda a: _decided(a, Plan.Status.ACTIVE),
        rejected=lambda a: _decided(a, Plan.Status.REJECTED),
        expired=lambda a: _decided(a, Plan.Status.REJECTED),
    )
