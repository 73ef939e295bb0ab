"""Agent and campaign pages: who is where, and how they got there (from the audit log)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from dashboard.accounts import roles
from dashboard.audit.selectors import audit_events, audit_filter_from_params
from dashboard.directory.selectors import agent_rows, campaign_rows, workgroup_names

HISTORY = 50


def _history(**params: str):
    audit_filter, errors = audit_filter_from_params(params)
    return [] if errors else audit_events(audit_filter, limit=HISTORY)


@require_GET
def agent_detail(request: HttpRequest, agent_id: str) -> HttpResponse:
    roles.require_board(request.user)
    rows = agent_rows(ids=[agent_id])
    if not rows:
        raise Http404("No such agent")
    agent = rows[0]
    campaigns = {c.id: c for c in campaign_rows(with_roster=False)}
    context = {
        "nav": "board",
        "agent": agent,
        "campaigns": [campaigns[c] for c in agent.campaign_ids if c in campaigns],
        "campaign_names": {c.id: c.name for c in campaigns.values()},
        "workgroups": [workgroup_names().get(w, w) for w in agent.workgroup_ids],
        "events": _history(agent=agent_id),
    }
    return TemplateResponse(request, "board/agent_detail.html", context)


@require_GET
def campaign_detail(request: HttpRequest, campaign_id: str) -> HttpResponse:
    roles.require_board(request.user)
    rows = campaign_rows(ids=[campaign_id])
    if not rows:
        raise Http404("No such campaign")
    campaign = rows[0]
    context = {
        "nav": "board",
        "campaign": campaign,
        "members": agent_rows(ids=campaign.agent_ids) if campaign.agent_ids else [],
        "events": _history(campaign=campaign_id),
    }
    return TemplateResponse(request, "board/campaign_detail.html", context)
