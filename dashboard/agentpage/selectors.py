"""Reads of the agent page (``/me/``) and of the board's "waiting for ready-for-calls" marker.

A move's request for ready-for-calls is open while it was not sent, is younger than
``READY_FOR_CALLS_WAIT_HOURS``, the agent is still in one of its campaigns, and presence does not
show the agent on a call since the move (then Dialer is evidently offering them calls).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from dashboard.agentpage.models import ReadyForCalls
from dashboard.directory.models import Agent, Campaign, RosterEntry

NOTICES_SHOWN = 5


@dataclass(frozen=True)
class CampaignLine:
    id: str
    name: str
    state_label: str
    state_known: bool


@dataclass(frozen=True)
class Notice:
    mover: str
    campaigns: list[str]
    at: datetime
    sent_at: datetime | None
    last_error: str
    open: bool


@dataclass
class AgentPage:
    agent: Agent | None
    campaigns: list[CampaignLine] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    to_send: list[str] = field(default_factory=list)  # campaign ids ready-for-calls would name
    to_send_names: list[str] = field(default_factory=list)


def _cutoff() -> datetime:
    return timezone.now() - timedelta(hours=settings.READY_FOR_CALLS_WAIT_HOURS)


def _took_calls_since(agent: Agent, moved_at: datetime) -> bool:
    return bool(agent.on_phone and agent.status_changed and agent.status_changed > moved_at)


def agent_page(agent_id: str) -> AgentPage:
    agent = Agent.objects.filter(id=agent_id).first()
    if agent is None:
        return AgentPage(agent=None)
    roster = set(RosterEntry.objects.filter(agent=agent).values_list("campaign_id", flat=True))
    recent = list(
        ReadyForCalls.objects.filter(agent=agent, moved_at__gte=_cutoff())
        .select_related("moved_by")
        .order_by("-moved_at", "-pk")[:50]
    )
    wanted = roster | {c for r in recent for c in r.campaign_ids}
    campaigns = Campaign.objects.in_bulk(wanted)
    labels = dict(Campaign.State.choices)

    def name(cid: str) -> str:
        return campaigns[cid].name if cid in campaigns else cid

    page = AgentPage(
        agent=agent,
        campaigns=sorted(
            (
                CampaignLine(
                    cid,
                    name(cid),
                    labels.get(campaigns[cid].state, "") if cid in campaigns else "",
                    campaigns[cid].state_known if cid in campaigns else False,
                )
                for cid in roster
            ),
            key=lambda line: line.name.casefold(),
        ),
    )
    to_send: list[str] = []
    for request in recent:
        still_in = [c for c in request.campaign_ids if c in roster]
        is_open = (
            request.sent_at is None
            and bool(still_in)
            and not _took_calls_since(agent, request.moved_at)
        )
        if is_open:
            to_send += [c for c in still_in if c not in to_send]
        if len(page.notices) < NOTICES_SHOWN:
            page.notices.append(
                Notice(
                    mover=_person(request.moved_by),
                    campaigns=[name(c) for c in request.campaign_ids],
                    at=request.moved_at,
                    sent_at=request.sent_at,
                    last_error=request.last_error,
                    open=is_open,
                )
            )
    page.to_send = to_send
    page.to_send_names = [name(c) for c in to_send]
    return page


def _person(user) -> str:
    if user is None:
        return "A supervisor"
    return user.get_full_name() or user.get_username()


def page_revision(agent_id: str) -> str:
    """Changes whenever the page may show something else (roster, requests, presence)."""
    agent = Agent.objects.filter(id=agent_id).values("roster_version", "status_changed").first()
    requests = ReadyForCalls.objects.filter(agent_id=agent_id).aggregate(
        n=Count("id"), last=Max("updated_at")
    )
    text = f"{agent}|{requests['n']}|{requests['last']}|{waiting_revision()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def waiting_agent_ids() -> set[str]:
    """Agents the board marks "waiting for ready-for-calls"; three queries whatever the size
    (the open requests are few: those of the last hours' moves not answered yet)."""
    rows = list(
        ReadyForCalls.objects.filter(sent_at=None, moved_at__gte=_cutoff()).values_list(
            "agent_id", "campaign_ids", "moved_at"
        )
    )
    if not rows:
        return set()
    agent_ids = {agent_id for agent_id, _, _ in rows}
    agents = Agent.objects.in_bulk(agent_ids)
    roster: dict[str, set[str]] = {}
    for agent_id, campaign_id in RosterEntry.objects.filter(agent_id__in=agent_ids).values_list(
        "agent_id", "campaign_id"
    ):
        roster.setdefault(agent_id, set()).add(campaign_id)
    waiting = set()
    for agent_id, campaign_ids, moved_at in rows:
        agent = agents.get(agent_id)
        if agent is None or _took_calls_since(agent, moved_at):
            continue
        if set(campaign_ids) & roster.get(agent_id, set()):
            waiting.add(agent_id)
    return waiting


def waiting_revision() -> str:
    """For the board's revision: changes when a request opens, is sent or ages out."""
    found = ReadyForCalls.objects.aggregate(
        open=Count("id", filter=Q(sent_at=None, moved_at__gte=_cutoff())), last=Max("updated_at")
    )
    return f"{found['open']}:{found['last']}"
