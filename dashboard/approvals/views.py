"""The approvals pages: the list, one approval with its re-preview, and the decisions.

An approval's page is the confirmation: the board's panel links to it, and Approve or Reject
are posted from it (CSRF), with the versions the re-preview showed, so what is approved is what
the approver saw. Refusals answer with their own status and message on the same page.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from dashboard.accounts import roles
from dashboard.allocations.errors import MoveRefused
from dashboard.approvals import decide, selectors
from dashboard.approvals.access import may_decide
from dashboard.approvals.errors import ApprovalPending
from dashboard.approvals.review import review


def approval_pending_response(request: HttpRequest, exc: ApprovalPending) -> HttpResponse:
    """The board's answer to a move held for approval: the dialog says so (202) and the jobs
    panel's approvals refresh at once; without JavaScript, the approval's page."""
    if not request.htmx:
        messages.info(request, exc.message)
        return redirect("approval-detail", exc.approval.pk)
    context = {"approval": exc.approval, "created": exc.created}
    response = TemplateResponse(request, "approvals/_submitted.html", context, status=202)
    response = reswap(retarget(response, "#move-dialog-body"), "innerHTML")
    trigger_client_event(response, "approvalRequested", {"id": exc.approval.pk})
    return response


@require_GET
def approval_list(request: HttpRequest) -> HttpResponse:
    roles.require_board(request.user)
    context = {
        "nav": "approvals",
        "for_me": selectors.pending_for(request.user),
        "mine": selectors.waiting_on_others(request.user),
        "decided": selectors.recent_decided(),
    }
    return TemplateResponse(request, "approvals/list.html", context)


@require_GET
def board_pending(request: HttpRequest) -> HttpResponse:
    """The jobs panel's approvals, polled: 204 while the revision it shows is current."""
    roles.require_board(request.user)
    revision = selectors.panel_revision(request.user)
    if request.GET.get("rev") == revision:
        return HttpResponse(status=204)
    context = {
        "for_me": selectors.pending_for(request.user),
        "mine": selectors.waiting_on_others(request.user),
        "decided": selectors.decided_for_requester(request.user),
        "revision": revision,
    }
    return TemplateResponse(request, "approvals/_board_pending.html#approvals-panel", context)


@require_GET
def approval_detail(request: HttpRequest, approval_id: int) -> HttpResponse:
    roles.require_board(request.user)
    try:
        approval = selectors.approval_by_id(approval_id)
    except MoveRefused as exc:
        return _page_error(request, exc)
    return _detail(request, approval)


def _detail(request, approval, *, error: str = "", status: int = 200, reason: str = ""):
    seen = review(approval) if approval.is_pending else None
    context = {
        "nav": "approvals",
        "approval": approval,
        "review": seen,
        "versions": json.dumps(seen.versions) if seen else "",
        "may_decide": approval.is_pending and may_decide(request.user, approval),
        "is_requester": approval.requested_by_id == request.user.pk,
        "error": error,
        "reason": reason,
    }
    return TemplateResponse(request, "approvals/detail.html", context, status=status)


def _page_error(request, exc: MoveRefused) -> HttpResponse:
    return TemplateResponse(
        request,
        "approvals/detail.html",
        {"nav": "approvals", "approval": None, "error": exc.message},
        status=exc.status,
    )


def _decision(request: HttpRequest, approval_id: int, run) -> HttpResponse:
    roles.require_board(request.user)
    reason = request.POST.get("reason", "")
    try:
        approval = run(reason)
    except MoveRefused as exc:
        try:
            approval = selectors.approval_by_id(approval_id)
        except MoveRefused:
            return _page_error(request, exc)
        return _detail(request, approval, error=exc.message, status=exc.status, reason=reason)
    messages.success(request, _done_text(approval))
    return redirect("approval-detail", approval.pk)


def _done_text(approval) -> str:
    if approval.job_id:
        return f"Approved: the move runs as job {approval.job_id}."
    return f"Approval {approval.pk} is {approval.get_status_display().lower()}."


@require_POST
def approval_approve(request: HttpRequest, approval_id: int) -> HttpResponse:
    def run(reason):
        return decide.approve(
            approval_id=approval_id,
            actor=request.user,
            reason=reason,
            expected_versions=_versions(request.POST.get("versions", "")),
            request_id=getattr(request, "request_id", ""),
        )

    return _decision(request, approval_id, run)


@require_POST
def approval_reject(request: HttpRequest, approval_id: int) -> HttpResponse:
    def run(reason):
        return decide.reject(
            approval_id=approval_id,
            actor=request.user,
            reason=reason,
            request_id=getattr(request, "request_id", ""),
        )

    return _decision(request, approval_id, run)


@require_POST
def approval_withdraw(request: HttpRequest, approval_id: int) -> HttpResponse:
    def run(_reason):
        return decide.withdraw(
            approval_id=approval_id,
            actor=request.user,
            request_id=getattr(request, "request_id", ""),
        )

    return _decision(request, approval_id, run)


def _versions(raw: str):
    """The versions the page showed. Anything unreadable is passed on as it is, for the submit
    to refuse as invalid (a clear 400, never a 500 and never "no check")."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw
