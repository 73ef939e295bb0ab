"""/api/agents and /api/campaigns: the directory and the roster, in a fixed number of queries."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from dashboard.accounts.roles import require_board
from dashboard.api.schemas import AgentOut, CampaignOut, ErrorOut
from dashboard.directory.selectors import agent_rows, campaign_rows

router = Router()
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut}


@router.get("agents", response={200: list[AgentOut], **ERRORS}, summary="Dialer agents")
def agent_list(
    request: HttpRequest,
    workgroup: str = Query("", max_length=200),
    campaign: str = Query("", max_length=200, description="Only agents in this campaign."),
    q: str = Query("", max_length=200, description="Part of the name or id."),
):
    """Agents with workgroups, presence and the campaigns the roster puts them in.

    ``roster_version`` goes into ``expected_versions`` of a move to make it conflict-safe.
    """
    require_board(request.user)
    return [
        {
            "id": a.id,
            "name": a.name,
            "extension": a.extension,
            "workgroup_ids": a.workgroup_ids,
            "status_id": a.status_id,
            "presence": a.presence,
            "logged_in": a.logged_in,
            "on_phone": a.on_phone,
            "campaign_ids": a.campaign_ids,
            "roster_version": a.roster_version,
            "pending_job": a.held_by_job_id,
        }
        for a in agent_rows(workgroup=workgroup, campaign=campaign, q=q)
    ]


@router.get("campaigns", response={200: list[CampaignOut], **ERRORS}, summary="Campaigns")
def campaign_list(request: HttpRequest):
    """Campaigns with their state and roster (agent ids)."""
    require_board(request.user)
    return [
        {
            "id": c.id,
            "name": c.name,
            "state": c.state,
            "accepts_calls": c.accepts_calls,
            "workgroup_id": c.workgroup_id,
            "headcount": c.headcount,
            "agent_ids": c.agent_ids,
        }
        for c in campaign_rows()
    ]
