"""The agent's own page: their campaigns, what moves did to them, and Ready for calls."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST

from dashboard.accounts import roles
from dashboard.agentpage.selectors import agent_page, page_revision
from dashboard.agentpage.services import send_ready_for_calls
from dashboard.core.htmx import wants_partial

PANEL = "me/page.html#me-panel"


def _agent_id(request: HttpRequest) -> str:
    return request.user.cic_identity.cic_user_id


@require_GET
def me_page(request: HttpRequest) -> HttpResponse:
    roles.require_agent(request.user)
    agent_id = _agent_id(request)
    revision = page_revision(agent_id)
    refresh = wants_partial(request, target="me-panel")
    if refresh and request.GET.get("rev") == revision:
        return HttpResponse(status=204)  # nothing new: the page on screen is current
    context = {"nav": "me", "page": agent_page(agent_id), "revision": revision, "answer": None}
    return TemplateResponse(request, PANEL if refresh else "me/page.html", context)


@require_POST
def ready_for_calls(request: HttpRequest) -> HttpResponse:
    """Send ready-for-calls for the campaigns the page shows waiting (read again here)."""
    roles.require_agent(request.user)
    agent_id = _agent_id(request)
    page = agent_page(agent_id)
    answer = send_ready_for_calls(request.user, agent_id, page.to_send)
    if not wants_partial(request):
        (messages.success if answer.ok else messages.error)(request, answer.text)
        return redirect("me")
    context = {
        "page": agent_page(agent_id),
        "revision": page_revision(agent_id),
        "answer": answer,
    }
    return TemplateResponse(request, PANEL, context)
