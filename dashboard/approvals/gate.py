"""Does this move (or plan) need a second person's approval? Decided here, once.

Callers:

- ``dashboard.allocations.submit.job_submit`` calls ``move_gate`` once, after validating the move
  and before the scope check. A move that needs approval becomes a pending ``Approval`` and
  ``ApprovalPending`` is raised (status 202; the board and the API show its message). A move
  submitted *because* it was approved passes ``approval=`` and is checked against the
  approver's scope instead of the requester's.
- The plans app calls ``approval_needed("plan", ...)`` when a plan is created or edited, and
  ``dashboard.approvals.request.request_approval(kind="plan", ...)`` if it returns a reason; it
  registers what to do on the decision with ``dashboard.approvals.request.on_decision``.

What needs approval is ``APPROVAL_REQUIRED_FOR`` (comma list of ``large``, ``out_of_scope``,
``plan``): ``large`` is more than ``APPROVAL_THRESHOLD_AGENTS`` agents; ``out_of_scope`` is a
move of agents outside the requester's workgroups (the rule is ``allocations.access``'s: without
``out_of_scope`` such a move is refused as before, with it the move waits for an approver whose
scope covers those agents). Reverts never wait: a revert puts back what a move changed.
"""

from __future__ import annotations

from django.conf import settings

from dashboard.accounts import roles
from dashboard.allocations.access import move_refusal
from dashboard.allocations.errors import InvalidMove
from dashboard.approvals.errors import ApprovalPending
from dashboard.approvals.models import Approval, ReasonCode
from dashboard.approvals.request import request_approval

LARGE = "large"
OUT_OF_SCOPE = "out_of_scope"
PLAN = "plan"
NEEDS = (LARGE, OUT_OF_SCOPE, PLAN)
# Reason codes may be required for every move ("all"), for moves that need approval
# ("approval"), or for moves with one of the needs above (APPROVAL_REASON_CODE_FOR).
ALL = "all"
APPROVAL = "approval"
REASON_CODE_NEEDS = (ALL, APPROVAL, *NEEDS)
MAX_REASON = 500


def approval_needs(
    kind: str, *, requester, agent_ids, campaign_ids_in=(), campaign_ids_out=()
) -> list[tuple[str, str]]:
    """What makes this ``kind`` ("move" or "plan") need approval: ``[(need, words), ...]``,
    empty when it does not. ``agent_ids`` are validated ids (the submit validates first)."""
    del campaign_ids_in, campaign_ids_out  # the rules today read the agents and the requester
    required = settings.APPROVAL_REQUIRED_FOR
    needs: list[tuple[str, str]] = []
    if kind == Approval.Kind.PLAN and PLAN in required:
        needs.append((PLAN, "plans need a second person's approval"))
    threshold = settings.APPROVAL_THRESHOLD_AGENTS
    if LARGE in required and len(agent_ids) > threshold:
        needs.append((LARGE, f"{len(agent_ids)} agents, more than {threshold}"))
    if OUT_OF_SCOPE in required and roles.can_move_agents(requester):
        refusal = move_refusal(requester, list(agent_ids))
        if refusal is not None:
            outside = refusal.message.partition(": ")[2]
            needs.append((OUT_OF_SCOPE, f"agents outside the requester's workgroups: {outside}"))
    return needs


def approval_needed(
    kind: str, *, requester, agent_ids, campaign_ids_in=(), campaign_ids_out=()
) -> str | None:
    """Why this needs a second person's approval, in words, or None when it does not."""
    needs = approval_needs(
        kind,
        requester=requester,
        agent_ids=agent_ids,
        campaign_ids_in=campaign_ids_in,
        campaign_ids_out=campaign_ids_out,
    )
    return "; ".join(words for _, words in needs) or None


def move_gate(
    *,
    actor,
    agent_ids: list[str],
    campaign_ids_in: list[str],
    campaign_ids_out: list[str],
    reason: str,
    reason_code: str | None,
    idempotency_key: str | None,
    expected_versions: dict[str, int],
    request_id: str,
    approval: Approval | None,
    revert_of=None,
):
    """Called by the submit once the move is valid. Returns ``(scope_user, reason)``: whose scope
    the submit checks (the approver's for an approved move, else the actor's) and the reason to
    store (with its reason code in front). Raises ``ApprovalPending`` when the move must wait,
    ``InvalidMove`` (field ``reason``) when a required reason code is missing or unknown.

    ``reason_code`` None means an internal caller (a retry, a plan's run) with no dialog to
    choose one: no code is required of it.
    """
    if approval is not None:
        return approval.decided_by, reason
    if revert_of is not None:
        return actor, reason
    needs = approval_needs(Approval.Kind.MOVE, requester=actor, agent_ids=agent_ids)
    reason = _with_reason_code(reason, reason_code, [n for n, _ in needs])
    if not needs:
        return actor, reason
    pending, created = request_approval(
        kind=Approval.Kind.MOVE,
        requester=actor,
        agent_ids=agent_ids,
        campaign_ids_in=campaign_ids_in,
        campaign_ids_out=campaign_ids_out,
        reason=reason,
        reason_code=(reason_code or "").strip(),
        needs=needs,
        idempotency_key=idempotency_key,
        expected_versions=expected_versions,
        request_id=request_id,
    )
    raise ApprovalPending(pending, created)


def approval_details(approval: Approval | None) -> dict | None:
    """What the job's audit rows say about the approval that let it run (``details``)."""
    if approval is None:
        return None
    return {
        "approval_id": approval.pk,
        "approved_by": approval.decided_by.get_username() if approval.decided_by else "",
        "approval_reason": approval.decision_reason,
    }


def reason_code_required(needs: list[str]) -> bool:
    """Whether a move with these needs must carry a reason code (when any code is active)."""
    wanted = settings.APPROVAL_REASON_CODE_FOR
    return ALL in wanted or (APPROVAL in wanted and bool(needs)) or bool(set(needs) & wanted)


def _with_reason_code(reason: str, reason_code: str | None, needs: list[str]) -> str:
    if reason_code is None:
        return reason
    reason_code = reason_code.strip()
    if not reason_code and not reason_code_required(needs):
        return reason  # nothing to check, no query (codes are required only where a site says)
    active = dict(ReasonCode.objects.filter(active=True).values_list("code", "label"))
    if not reason_code:
        if active:
            raise InvalidMove(
                "Choose a reason code for this move",
                {"reason": "choose a reason code", "reason_code": "required for this move"},
            )
        return reason
    if reason_code not in active:
        raise InvalidMove(
            f"Unknown or retired reason code: {reason_code[:40]}",
            {"reason": "choose a reason code from the list", "reason_code": "unknown"},
        )
    combined = f"{reason_code}: {reason}" if reason else reason_code
    if len(combined) > MAX_REASON:
        raise InvalidMove(
            f"The reason and its code are at most {MAX_REASON} characters together",
            {"reason": f"at most {MAX_REASON - len(reason_code) - 2} characters with this code"},
        )
    return combined
