"""Moving agents from the board: the confirmation (preview) and the submit.

With htmx both answer partials (the dialog body, then the new job's status); without
JavaScript the preview is a page and the submit redirects to the job's page.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from dashboard.accounts import roles
from dashboard.allocations.services import MoveRefused, job_submit
from dashboard.board.moves import PickError, move_preview

REFUSAL_STATUS = {"invalid": 400, "forbidden": 403, "conflict": 409, "not_found": 404}


def _template(request: HttpRequest, name: str, partial: str) -> str:
    return f"board/{name}.html#{partial}" if request.htmx else f"board/{name}.html"


@require_GET
def move_preview_view(request: HttpRequest) -> HttpResponse:
    roles.require_mover(request.user)
    context: dict = {"nav": "board", "idempotency_key": uuid.uuid4().hex}
    status = 200
    try:
        context["preview"] = move_preview(
            picks=request.GET.getlist("pick"), target=request.GET.get("target", "")
        )
    except PickError as exc:
        context["error"] = str(exc)
        status = 400
    return TemplateResponse(
        request, _template(request, "move_preview", "move-dialog-body"), context, status=status
    )


@require_POST
def move_submit(request: HttpRequest) -> HttpResponse:
    roles.require_mover(request.user)
    expected, bad = _expected_versions(request.POST.getlist("expected"))
    try:
        if bad:
            raise MoveRefused("invalid", "The roster versions sent with the move are not valid")
        job, created = job_submit(
            actor=request.user,
            agent_ids=request.POST.getlist("agent_ids"),
            campaign_ids_in=request.POST.getlist("campaign_ids_in"),
            campaign_ids_out=request.POST.getlist("campaign_ids_out"),
            reason=request.POST.get("reason", ""),
            idempotency_key=request.POST.get("idempotency_key") or None,
            expected_versions=expected or None,
            request_id=getattr(request, "request_id", ""),
        )
    except MoveRefused as exc:
        return _refused(request, exc)
    if not request.htmx:
        messages.success(request, f"Move queued as job {job.pk}.")
        return redirect("job-detail", job.pk)
    response = TemplateResponse(request, "board/job.html#job-status", {"job": job})
    trigger_client_event(response, "jobSubmitted", {"id": job.pk, "created": created})
    return response


def _refused(request: HttpRequest, exc: MoveRefused) -> HttpResponse:
    status = REFUSAL_STATUS.get(exc.code, 400)
    if not request.htmx:
        return TemplateResponse(
            request,
            "board/move_preview.html",
            {"nav": "board", "error": exc.message},
            status=status,
        )
    # Keep the dialog open with the reason: the supervisor decides what to do next.
    response = TemplateResponse(
        request, "board/move_preview.html#move-dialog-body", {"error": exc.message}, status=status
    )
    return reswap(retarget(response, "#move-dialog-body"), "innerHTML")


def _expected_versions(values: list[str]) -> tuple[dict[str, int], bool]:
    expected: dict[str, int] = {}
    for value in values:
        agent, _, version = value.rpartition(":")
        if not agent or not version.isdigit():
            return {}, True
        expected[agent] = int(version)
    return expected, False
