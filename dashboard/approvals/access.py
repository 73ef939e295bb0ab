"""Who may decide an approval: decided here, once, for the pages, the board and the API.

An approver is a supervisor or an admin who is not the requester and whose own scope covers
every agent of the move (the rule is ``allocations.access.move_refusal``'s, applied to the
approver): approving a move is as strong as making it.
"""

from __future__ import annotations

from dashboard.accounts import roles
from dashboard.allocations.access import move_refusal
from dashboard.approvals.errors import NotYourApproval
from dashboard.approvals.models import Approval

NO_APPROVER_ROLE = "Your role may not decide approvals (supervisor or admin only)"
OWN_REQUEST = "You asked for this; a second supervisor or an admin must decide it"


def decision_refusal(actor, approval: Approval) -> NotYourApproval | None:
    """None when ``actor`` may approve or reject ``approval``; otherwise the refusal to raise."""
    if not roles.can_move_agents(actor):
        return NotYourApproval(NO_APPROVER_ROLE)
    if approval.requested_by_id == actor.pk:
        return NotYourApproval(OWN_REQUEST)
    refusal = move_refusal(actor, list(approval.agent_ids), action="approve")
    if refusal is not None:
        return NotYourApproval(refusal.message)
    return None


def may_decide(actor, approval: Approval) -> bool:
    """For pages deciding whether to offer Approve and Reject."""
    return decision_refusal(actor, approval) is None


def withdraw_refusal(actor, approval: Approval) -> NotYourApproval | None:
    """Only the requester withdraws their own pending request."""
    if approval.requested_by_id != actor.pk:
        return NotYourApproval("Only the supervisor who asked can withdraw this request")
    return None
