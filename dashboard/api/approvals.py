"""/api/approvals: list pending approvals, read one, approve, reject.

Approvals are created by moves (``POST /api/allocations``, which answers 202 with the approval
when a move must wait) and by plans, each with their Idempotency-Key. Who may decide is
``approvals.access``'s rule, the same as the pages'.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.urls import reverse
from ninja import NinjaAPI, Query, Router, Schema
from pydantic import Field, StrictInt

from dashboard.accounts.roles import require_board
from dashboard.api.errors import error_body
from dashboard.api.schemas import ErrorOut, Strict
from dashboard.approvals import decide, selectors
from dashboard.approvals.access import may_decide
from dashboard.approvals.errors import ApprovalPending
from dashboard.approvals.review import review

router = Router()
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class ApprovalOut(Schema):
    id: int
    url: str
    kind: str
    status: str
    summary: str
    requested_by: str
    created_at: datetime
    expires_at: datetime
    agent_ids: list[str]
    campaign_ids_in: list[str]
    campaign_ids_out: list[str]
    reason: str
    needs: list[str]
    needs_text: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str
    job_url: str | None

    @staticmethod
    def resolve_url(approval) -> str:
        return reverse("api:approval_detail", args=[approval.pk])

    @staticmethod
    def resolve_requested_by(approval) -> str:
        return approval.requested_by.get_username()

    @staticmethod
    def resolve_decided_by(approval) -> str | None:
        return approval.decided_by.get_username() if approval.decided_by else None

    @staticmethod
    def resolve_job_url(approval) -> str | None:
        return reverse("api:allocation_detail", args=[approval.job_id]) if approval.job_id else None


class ReviewOut(Schema):
    changed: bool
    changes: list[str]
    error: str
    versions: dict[str, int] = Field(
        description="agent id -> roster version now: send these back as expected_versions."
    )
    headcounts: list[dict]
    warnings: list[str]


class ApprovalDetailOut(ApprovalOut):
    """``may_decide`` and ``review`` are set on the approval by the view (they need the user)."""

    may_decide: bool
    review: ReviewOut | None


class ApproveIn(Strict):
    reason: str = Field("", description="Why; kept in the audit log. At most 500 characters.")
    expected_versions: dict[str, StrictInt] | None = Field(
        None,
        description="The review's versions: the move is refused (409) if the roster changed "
        "since you read them.",
    )


class RejectIn(Strict):
    reason: str = Field(..., description="Why (required: the requester reads it).")


class PendingOut(Schema):
    detail: str
    approval: ApprovalOut


@router.get("", response={200: list[ApprovalOut], **ERRORS}, summary="Pending approvals")
def approval_list(
    request: HttpRequest,
    for_me: bool = Query(False, description="Only those I may approve or reject."),
):
    require_board(request.user)
    if for_me:
        return selectors.pending_for(request.user)
    return list(selectors.pending())


@router.get(
    "/{int:approval_id}",
    response={200: ApprovalDetailOut, **ERRORS},
    summary="One approval, re-previewed against the roster of now",
)
def approval_detail(request: HttpRequest, approval_id: int):
    require_board(request.user)
    approval = selectors.approval_by_id(approval_id)
    seen = review(approval) if approval.is_pending else None
    approval.may_decide = approval.is_pending and may_decide(request.user, approval)
    approval.review = (
        {
            "changed": seen.changed,
            "changes": seen.changes,
            "error": seen.error,
            "versions": seen.versions,
            "headcounts": [vars(h) for h in seen.preview.headcounts] if seen.preview else [],
            "warnings": seen.preview.warnings if seen.preview else [],
        }
        if seen
        else None
    )
    return approval


@router.post(
    "/{int:approval_id}/approve",
    response={200: ApprovalOut, **ERRORS},
    summary="Approve (a move is queued as the requester's job)",
)
def approval_approve(request: HttpRequest, approval_id: int, payload: ApproveIn):
    """403 for the requester, a role that may not, or an approver out of scope (audited); 409
    when already decided or expired, or the roster changed since ``expected_versions``."""
    decide.approve(
        approval_id=approval_id,
        actor=request.user,
        reason=payload.reason,
        expected_versions=payload.expected_versions,
        request_id=getattr(request, "request_id", ""),
    )
    return selectors.approval_by_id(approval_id)


@router.post("/{int:approval_id}/reject", response={200: ApprovalOut, **ERRORS}, summary="Reject")
def approval_reject(request: HttpRequest, approval_id: int, payload: RejectIn):
    decide.reject(
        approval_id=approval_id,
        actor=request.user,
        reason=payload.reason,
        request_id=getattr(request, "request_id", ""),
    )
    return selectors.approval_by_id(approval_id)


def install_pending_handler(api: NinjaAPI) -> None:
    """A move that must wait answers 202 with the approval (its URL to poll), not an error."""

    def pending(request: HttpRequest, exc: ApprovalPending):
        body = error_body(exc.message)
        body["approval"] = ApprovalOut.from_orm(exc.approval).model_dump(mode="json")
        body["url"] = body["approval"]["url"]
        return api.create_response(request, body, status=202)

    api.add_exception_handler(ApprovalPending, pending)
