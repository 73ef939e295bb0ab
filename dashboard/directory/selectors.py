"""Reads of the directory: plain rows in a fixed number of queries, whatever the size."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from dashboard.core import lookups  # noqa: F401 - registers field__any_of
from dashboard.directory.models import Agent, Campaign, RosterEntry, Workgroup


def roster_of(agent_ids: Iterable[str]) -> dict[str, list[str]]:
    """agent id -> sorted campaign ids, for every given agent (empty list when in none)."""
    ids = list(agent_ids)
    return roster_from_rows(ids, roster_query(ids))


def roster_query(agent_ids: list[str]):
    """``roster_of``'s query: (agent id, campaign id) rows, for a caller that sends it in a
    round trip of its own (``allocations.together``) and shapes them by ``roster_from_rows``.
    The ids go as one array (``any_of``): a 5,000-agent move's outcome reads 5,000 rosters."""
    return RosterEntry.objects.filter(agent_id__any_of=agent_ids).values_list(
        "agent_id", "campaign_id"
    )


def roster_from_rows(agent_ids: list[str], rows: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """``roster_of``'s answer from ``roster_query``'s rows."""
    result: dict[str, list[str]] = {agent_id: [] for agent_id in agent_ids}
    grouped: dict[str, list[str]] = defaultdict(list)
    for agent_id, campaign_id in rows:
        grouped[agent_id].append(campaign_id)
    for agent_id, campaigns in grouped.items():
        result[agent_id] = sorted(campaigns)
    return result


@dataclass
class AgentRow:
    id: str
    name: str
    extension: str
    status_id: str
    logged_in: bool
    on_phone: bool
    roster_version: int
    held_by_job_id: int | None
    workgroup_ids: list[str] = field(default_factory=list)
    campaign_ids: list[str] = field(default_factory=list)

    @property
    def presence(self) -> str:
        """One word for filters and badges: on-call, available, away or offline."""
        if not self.logged_in:
            return "offline"
        if self.on_phone:
            return "on-call"
        return "available" if self.status_id.lower() in AVAILABLE_STATUSES else "away"


# ICWS status message ids that mean "ready for dialer calls" (REFERENCE.md, status messages).
AVAILABLE_STATUSES = frozenset({"available", "available, follow-me", "available, forward"})


@dataclass
class CampaignRow:
    id: str
    name: str
    state: str
    state_label: str
    workgroup_id: str | None
    accepts_calls: bool
    agent_ids: list[str] = field(default_factory=list)
    state_source: str = ""  # "" nobody knows, "icws", "admin" (see Campaign.state_source)
    state_note: str = ""
    state_recorded_by: str = ""
    state_recorded_at: dt.datetime | None = None
    staffing_target: int | None = None  # agents wanted, recorded by an admin

    @property
    def state_basis(self) -> str:
        """Words naming where the state comes from, for warnings that rest on it."""
        return {"admin": "recorded by an admin", "icws": "as CIC reports it"}.get(
            self.state_source, "source not recorded"
        )

    @property
    def state_unknown(self) -> bool:
        """No source gives the state (REF 10: a real CIC server reports none). A state without
        a recorded source (rows from before sources were kept) is shown as "source not
        recorded" instead."""
        return self.state == Campaign.State.UNKNOWN

    @property
    def state_provenance(self) -> str:
        """Who recorded the state and when, with their note: "" unless an admin recorded it."""
        if self.state_source != "admin":
            return ""
        who = self.state_recorded_by or "an admin"
        when = (
            f" on {timezone.localtime(self.state_recorded_at):%Y-%m-%d %H:%M %Z}"
            if self.state_recorded_at
            else ""
        )
        note = f': "{self.state_note}"' if self.state_note else ""
        return f"Recorded by {who}{when}{note}."

    @property
    def headcount(self) -> int:
        return len(self.agent_ids)


def agent_rows(
    *, ids: Iterable[str] | None = None, workgroup: str = "", campaign: str = "", q: str = ""
) -> list[AgentRow]:
    """Active agents with workgroups and campaigns, by name: three queries at any size."""
    agents = Agent.objects.filter(active=True)
    if ids is not None:
        agents = agents.filter(id__in=list(ids))
    if workgroup:
        agents = agents.filter(workgroups__id=workgroup)
    if campaign:
        agents = agents.filter(roster__campaign_id=campaign)
    if q:
        agents = agents.filter(Q(name__icontains=q) | Q(id__icontains=q))
    rows = {
        values["id"]: AgentRow(**values)
        for values in agents.order_by("name", "id")
        .distinct()
        .values(
            "id",
            "name",
            "extension",
            "status_id",
            "logged_in",
            "on_phone",
            "roster_version",
            "held_by_job_id",
        )
    }
    if not rows:
        return []
    # Filters beyond "active" are applied in Python below when the id list would be too long
    # for an IN clause; for the common unfiltered case these scans cover the whole table.
    filtered = bool(ids is not None or workgroup or campaign or q)
    memberships = Agent.workgroups.through.objects.all()
    roster = RosterEntry.objects.all()
    if filtered and len(rows) <= 2000:
        memberships = memberships.filter(agent_id__in=list(rows))
        roster = roster.filter(agent_id__in=list(rows))
    for agent_id, group_id in memberships.values_list("agent_id", "workgroup_id"):
        if agent_id in rows:
            rows[agent_id].workgroup_ids.append(group_id)
    for agent_id, campaign_id in roster.values_list("agent_id", "campaign_id"):
        if agent_id in rows:
            rows[agent_id].campaign_ids.append(campaign_id)
    for row in rows.values():
        row.workgroup_ids.sort()
        row.campaign_ids.sort()
    return list(rows.values())


def campaign_rows(
    *, ids: Iterable[str] | None = None, with_roster: bool = True
) -> list[CampaignRow]:
    """Active campaigns by name, each with its roster's agent ids: two queries at any size."""
    campaigns = Campaign.objects.filter(active=True)
    if ids is not None:
        campaigns = campaigns.filter(id__in=list(ids))
    labels = dict(Campaign.State.choices)
    rows = {
        c["id"]: CampaignRow(
            id=c["id"],
            name=c["name"],
            state=c["state"],
            state_label=labels.get(c["state"], c["state"]),
            workgroup_id=c["workgroup_id"],
            accepts_calls=c["state"] in (Campaign.State.ON, Campaign.State.AUTO),
            state_source=c["state_source"],
            state_note=c["state_note"],
            state_recorded_by=c["state_recorded_by"],
            state_recorded_at=c["state_recorded_at"],
            staffing_target=c["staffing_target"],
        )
        for c in campaigns.order_by("name", "id").values(
            "id",
            "name",
            "state",
            "workgroup_id",
            "state_source",
            "state_note",
            "state_recorded_by",
            "state_recorded_at",
            "staffing_target",
        )
    }
    if not with_roster:
        return list(rows.values())
    roster = RosterEntry.objects.filter(agent__active=True)
    if ids is not None:
        roster = roster.filter(campaign_id__in=list(rows))
    for campaign_id, agent_id in roster.order_by("agent_id").values_list("campaign_id", "agent_id"):
        if campaign_id in rows:
            rows[campaign_id].agent_ids.append(agent_id)
    return list(rows.values())


def workgroup_names() -> dict[str, str]:
    return dict(Workgroup.objects.values_list("id", "name"))


def agent_names(ids: Iterable[str]) -> dict[str, str]:
    """agent id -> name for the given ids (inactive agents too: old records still name them).
    The ids go as one array (``any_of``): a move's audit row may name thousands."""
    return dict(Agent.objects.filter(id__any_of=list(ids)).values_list("id", "name"))


def campaign_names(ids: Iterable[str] | None = None) -> dict[str, str]:
    """campaign id -> name, for the given ids or every campaign (a dialer has hundreds at most).

    The one place pages that store ids (jobs, audit rows, history) get names to show; an id
    missing here is shown as itself by the caller.
    """
    return dict(campaign_names_query(ids))


def campaign_names_query(ids: Iterable[str] | None = None):
    """``campaign_names``' query: (id, name) rows, for a caller that sends it in a round trip
    of its own (``allocations.together``)."""
    campaigns = Campaign.objects.all()
    if ids is not None:
        campaigns = campaigns.filter(id__in=list(ids))
    return campaigns.values_list("id", "name")
