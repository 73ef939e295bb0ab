"""The board page: campaign columns of agent cards."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from dashboard.accounts import roles
from dashboard.allocations.explain import explain_job
from dashboard.allocations.models import AllocationJob
from dashboard.board.context_processors import health
from dashboard.board.selectors import PRESENCES, board_revision, board_view
from dashboard.core.htmx import htmx_partial, wants_partial
from dashboard.directory.models import Campaign

RECENT_JOBS = 8


@require_GET
@htmx_partial("board/board.html#board-columns", target="board-columns")
def board_page(request: HttpRequest) -> HttpResponse:
    roles.require_board(request.user)
    filters = {
        "q": request.GET.get("q", "").strip()[:200],
        "workgroup": request.GET.get("workgroup", "")[:200],
        "presence": request.GET.get("presence", "")
        if request.GET.get("presence") in PRESENCES
        else "",
        "state": request.GET.get("state", "")[:20],
    }
    refresh = wants_partial(request, target="board-columns")
    # The poll carries the top bar's health too, so it turns with the board.
    bar = health()
    revision = board_revision(_health_key(bar))
    if refresh and request.GET.get("rev") == revision:
        return HttpResponse(status=204)  # htmx swaps nothing: the board on screen is current
    board = board_view(**filters)
    context = {
        "nav": "board",
        "board": board,
        "filters": filters,
        "presences": PRESENCES,
        "states": Campaign.State.choices,
        "can_move": roles.can_move_agents(request.user),
        "revision": revision,
        "live_health": bar if refresh else None,  # full pages have it in the top bar
    }
    if refresh:  # the decorator renders the columns only: the drawer's jobs are not needed
        return TemplateResponse(request, "board/board.html", context)
    jobs = (
        AllocationJob.objects.filter(requested_by=request.user)
        .select_related("requested_by")
        .order_by("-pk")[:RECENT_JOBS]
    )
    # Each with what the status partial shows after a failure (explanation, Retry).
    context["recent_jobs"] = [(job, explain_job(job)) for job in jobs]
    return TemplateResponse(request, "board/board.html", context)


def _health_key(bar: dict) -> str:
    return f"{bar['health']}|{bar['health_label']}|{bar['last_sync']}|{bar['listener']}"
