"""Moving agents from the board: the confirmation (preview) and the submit.

The board posts the preview (its picks in one field, so any selection up to ALLOCATION_MAX_AGENTS
fits); the no-JavaScript board form gets it with one ``pick`` per ticked card. The confirm form
posts the same picks and target back and the submit rebuilds the preview from them, so the move
queued is the move shown. With htmx both answer partials (the dialog body, then the new job's
status); without JavaScript the preview is a page and the submit redirects to the job's page.

While the dialog is open it asks ``move_check`` whether anything it shows has changed
(``board/freshness.py``); a submit of a state the supervisor was not shown answers the dialog
again with the changes (409) instead of queuing the move.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from dashboard.accounts import roles
from dashboard.allocations.errors import MoveRefused, refusal_status
from dashboard.allocations.submit import job_submit
from dashboard.approvals.errors import ApprovalPending
from dashboard.approvals.views import approval_pending_response
from dashboard.board import freshness
from dashboard.board.moves import MovePreview, PickError, move_preview, selection_from
from dashboard.board.selectors import board_revision
from dashboard.core.htmx import wants_partial
from dashboard.core.params import BadParameter, bad_parameter_response

DIALOG = "board/move_preview.html"


def _render(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    """The dialog body for htmx, the confirm page without it (both views, every outcome; the
    submit's success is the job status instead, so ``@htmx_partial`` does not fit here)."""
    context.setdefault("nav", "board")
    name = f"{DIALOG}#move-dialog-body" if wants_partial(request) else DIALOG
    return TemplateResponse(request, name, context, status=status)


@require_http_methods(["GET", "POST"])
def move_preview_view(request: HttpRequest) -> HttpResponse:
    roles.require_mover(request.user)
    try:
        preview = move_preview(
            selection_from(request.POST if request.method == "POST" else request.GET)
        )
    except PickError as exc:
        return _render(request, {"error": str(exc), "error_field": exc.field}, status=400)
    return _render(request, _confirm_context(preview, uuid.uuid4().hex))


def _confirm_context(preview: MovePreview, key: str, opened: dict | None = None, **extra) -> dict:
    """The confirm form's context: ``opened`` is the snapshot taken when the dialog first
    opened (kept through re-renders), ``seen`` the fingerprint of the state shown now."""
    now = freshness.snapshot(preview)
    opened = now if opened is None else opened
    names = {a.id: a.name for a in preview.agents}
    return {
        "preview": preview,
        "idempotency_key": key,
        "snapshot": freshness.encode(opened),
        "seen": freshness.fingerprint(now),
        "revision": board_revision(),
        "changes": freshness.changes(opened, now, names),
        **extra,
    }


@require_POST
def move_check(request: HttpRequest) -> HttpResponse:
    """The open dialog's poll: 204 while the board's revision is the one it was shown, else
    what changed since it opened (the dialog's "Since you opened this" note)."""
    roles.require_mover(request.user)
    revision = board_revision()
    if request.POST.get("rev") == revision:
        return HttpResponse(status=204)
    try:
        opened = freshness.parse_snapshot(request.POST.get("snapshot", ""))
        preview = move_preview(selection_from(request.POST))
    except BadParameter as exc:
        return bad_parameter_response(exc)
    except PickError as exc:
        # The move cannot be made any more (a campaign or agent went away): say so in the note.
        context = {"changes": [str(exc)], "revision": revision, "seen": "", "cannot": True}
        return TemplateResponse(request, f"{DIALOG}#move-check", context)
    context = _confirm_context(preview, "", opened)
    return TemplateResponse(request, f"{DIALOG}#move-check", context)


@require_POST
def move_submit(request: HttpRequest) -> HttpResponse:
    roles.require_mover(request.user)
    reason = request.POST.get("reason", "")
    key = request.POST.get("idempotency_key") or None
    try:
        preview = move_preview(selection_from(request.POST))
        opened = _opened(request)
    except PickError as exc:
        return _in_dialog(request, {"error": str(exc), "error_field": exc.field}, 400)
    except BadParameter as exc:
        return _in_dialog(request, {"error": str(exc), "error_field": exc.name}, 400)
    if opened is not None:
        now = freshness.fingerprint(freshness.snapshot(preview))
        if now not in (request.POST.get("seen"), freshness.fingerprint(opened)):
            # Rosters changed in a way the dialog has not shown yet: show it, do not move.
            context = _confirm_context(preview, key or uuid.uuid4().hex, opened, reason=reason)
            return _in_dialog(request, {**context, "ask_again": True}, 409)
    try:
        job, created = job_submit(
            actor=request.user,
            agent_ids=preview.agent_ids,
            campaign_ids_in=preview.campaign_ids_in,
            campaign_ids_out=preview.campaign_ids_out,
            reason=reason,
            reason_code=request.POST.get("reason_code", ""),
            idempotency_key=key,
            expected_versions=preview.expected_versions,
            request_id=getattr(request, "request_id", ""),
        )
    except ApprovalPending as exc:
        return approval_pending_response(request, exc)
    except MoveRefused as exc:
        status = refusal_status(exc)
        if "reason" in (exc.fields or {}):
            # A refused reason keeps the dialog, its selection and what was typed: the error
            # shows beside the field.
            problem = exc.fields["reason"]  # beside the field: its own words, as a sentence
            context = _confirm_context(
                preview,
                key or uuid.uuid4().hex,
                opened,
                reason=reason,
                reason_error=f"{problem[:1].upper()}{problem[1:]}.",
            )
            return _in_dialog(request, context, status)
        return _in_dialog(request, {"error": exc.message}, status)
    if not request.htmx:
        messages.success(request, f"Move queued as job {job.pk}.")
        return redirect("job-detail", job.pk)
    response = TemplateResponse(request, "board/job.html#job-status", {"job": job})
    trigger_client_event(response, "jobSubmitted", {"id": job.pk, "created": created})
    return response


def _opened(request: HttpRequest) -> dict | None:
    """The snapshot the confirm form carries; None from a form without one (an API-like post)."""
    raw = request.POST.get("snapshot")
    return freshness.parse_snapshot(raw) if raw else None


def _in_dialog(request: HttpRequest, context: dict, status: int) -> HttpResponse:
    """The confirm form targets the jobs panel; a refusal goes back into the dialog instead."""
    response = _render(request, context, status)
    if request.htmx:
        response = reswap(retarget(response, "#move-dialog-body"), "innerHTML")
    return response
