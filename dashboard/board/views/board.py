"""The board page: campaign columns of agent cards."""

from __future__ import annotations

import time
from functools import partial

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from dashboard.accounts import roles
from dashboard.allocations.explain import explain_job
from dashboard.allocations.models import AllocationJob
from dashboard.board.context_processors import health
from dashboard.board.selectors import (
    PRESENCE_WORDS,
    PRESENCES,
    board_revision,
    board_shell,
    board_view,
    presence_delta,
)
from dashboard.core.htmx import htmx_partial, wants_partial
from dashboard.directory.models import Campaign

RECENT_JOBS = 8
# Card density, remembered by board.js in this cookie so the server renders the page in it.
DENSITY_COOKIE = "board_density"
DENSITIES = ("compact", "comfortable")


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
        # Collapsed columns the user opened: rendered with their cards (board.js keeps the list).
        "open": request.GET.get("open", "")[:20_000],
    }
    refresh = wants_partial(request, target="board-columns")
    # The poll carries the top bar's health too, so it turns with the board.
    bar = health()
    revision = board_revision(_health_key(bar))
    if refresh:
        shown = request.GET.get("rev", "")[:100]
        if shown == revision:
            return HttpResponse(status=204)  # htmx swaps nothing: the board on screen is current
        # Only presence moved (the listener writes it all shift long): the changed agents, for
        # board.js to patch their cards and the column totals, not thousands of cards again.
        opened = frozenset(filter(None, filters["open"].split("\n")))
        delta = presence_delta(shown, revision, opened)
        if delta is not None:
            return JsonResponse(
                {"rev": revision, **delta},
                # Without board.js's handler htmx still leaves the board alone.
                headers={"X-Board-Delta": "presence", "HX-Reswap": "none"},
            )
    opened = frozenset(filter(None, filters["open"].split("\n")))
    can_move = roles.can_move_agents(request.user)
    # Called only if the columns are not in the rendered-columns cache for this revision, by
    # the tag that renders them (board_heads), so the board is not kept with the context.
    build_board = partial(
        board_view, **{k: v for k, v in filters.items() if k != "open"}, opened=opened
    )
    build_board.do_not_call_in_templates = True
    context = {
        "nav": "board",
        "build_board": build_board,
        "columns_key": (revision, tuple(sorted(filters.items())), can_move),
        "server_now": int(time.time()),
        "filters": filters,
        "presences": PRESENCE_WORDS.items(),
        "states": Campaign.State.choices,
        "can_move": can_move,
        "revision": revision,
        "density": _density(request),
        "live_health": bar if refresh else None,  # full pages have it in the top bar
    }
    if refresh:  # the decorator renders the columns only: the drawer's jobs are not needed
        return TemplateResponse(request, "board/board.html", context)
    context["shell"] = board_shell()
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


def _density(request: HttpRequest) -> str:
    value = request.COOKIES.get(DENSITY_COOKIE, "")
    return value if value in DENSITIES else DENSITIES[0]
