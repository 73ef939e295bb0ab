"""What the board shows: campaign columns of agent cards, with moves in flight projected.

A job that is queued or running already shows its agents where it will put them, marked pending;
if the job fails, the next render shows them where the roster says they are again. The query
count is fixed: it does not grow with the number of agents or campaigns.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote

from django.db.models import Count, Max, Sum

from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import Agent, Campaign, SyncRun
from dashboard.directory.selectors import AgentRow, CampaignRow, agent_rows, campaign_rows
from dashboard.directory.selectors import workgroup_names as _workgroup_names

# Columns of campaigns that cannot take calls start collapsed.
COLLAPSED_STATES = frozenset({Campaign.State.OFF, Campaign.State.COMPLETED})
PRESENCES = ("available", "on-call", "away", "offline")


@dataclass
class Card:
    agent: AgentRow
    campaign_id: str  # the column it sits in; "" for Unassigned
    pending_job: int | None = None
    workgroup_label: str = ""
    hidden: bool = False  # filtered out: rendered with ``hidden``, so a looser filter shows it

    @property
    def search_key(self) -> str:
        """What the search matches: name and id, accents and case folded (board.js folds alike)."""
        return fold(f"{self.agent.name} {self.agent.id}")

    @property
    def pick(self) -> str:
        """The card's value in the move form: column, agent and the roster version seen."""
        return f"{quote(self.campaign_id, safe='')}/{quote(self.agent.id, safe='')}/" + str(
            self.agent.roster_version
        )


@dataclass
class Column:
    campaign: CampaignRow | None  # None: Unassigned
    cards: list[Card] = field(default_factory=list)
    hidden: bool = False  # its campaign state is filtered out

    @property
    def id(self) -> str:
        return self.campaign.id if self.campaign else ""

    @property
    def name(self) -> str:
        return self.campaign.name if self.campaign else "Unassigned"

    @property
    def state(self) -> str:
        return self.campaign.state if self.campaign else ""

    @property
    def collapsed(self) -> bool:
        return self.campaign is not None and self.campaign.state in COLLAPSED_STATES

    @property
    def headcount(self) -> int:
        return len(self.cards)


@dataclass
class Board:
    columns: list[Column]
    workgroups: dict[str, str]
    agent_count: int
    pending_jobs: list[int]

    @property
    def campaigns(self) -> list[Column]:
        return [c for c in self.columns if c.campaign is not None]


def fold(text: str) -> str:
    """Lower case without combining marks: "José" -> "jose"."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def board_view(*, workgroup: str = "", q: str = "", presence: str = "", state: str = "") -> Board:
    """The board with every card; what the filters leave out is marked hidden.

    Marked, not dropped: without JavaScript the browser hides them (the ``hidden`` attribute);
    with it, the page filters in place and a looser filter shows cards already on the page.
    """
    agents = agent_rows()
    query = fold(q.strip())
    campaigns = campaign_rows(with_roster=False)
    names = _workgroup_names()
    pending = _pending_moves()

    columns = {c.id: Column(campaign=c) for c in campaigns}
    unassigned = Column(campaign=None)
    for agent in agents:
        label = ", ".join(names.get(w, w) for w in agent.workgroup_ids)
        placed = set(agent.campaign_ids) & columns.keys()
        job_id = None
        if agent.id in pending:
            job_id, ins, outs = pending[agent.id]
            placed = (placed - set(outs)) | (set(ins) & columns.keys())
        hidden = not (
            (not query or query in fold(f"{agent.name} {agent.id}"))
            and (not workgroup or workgroup in agent.workgroup_ids)
            and (not presence or agent.presence == presence)
        )
        for campaign_id in sorted(placed):
            columns[campaign_id].cards.append(Card(agent, campaign_id, job_id, label, hidden))
        if not placed:
            unassigned.cards.append(Card(agent, "", job_id, label, hidden))

    for column in columns.values():
        column.hidden = bool(state) and column.state != state
    return Board(
        columns=[unassigned, *columns.values()],
        workgroups=names,
        agent_count=len(agents),
        pending_jobs=sorted({job for job, _, _ in pending.values()}),
    )


def board_revision(health_key: str = "") -> str:
    """Changes whenever anything the board shows may have changed; three small queries.

    The board's one-second poll sends the revision it shows and gets 204 (nothing to swap)
    while it is current, instead of re-rendering thousands of cards. Presence is in it (the
    listener stamps ``presence_updated_at``), and so is the health the top bar shows: a poll
    that is cheap when nothing changed is why this is a poll, not server-sent events, which
    would hold a gunicorn sync worker per open board.
    """
    jobs = AllocationJob.objects.aggregate(last=Max("updated_at"), count=Count("id"))
    roster = Agent.objects.aggregate(
        versions=Sum("roster_version"),
        count=Count("id"),
        presence=Max("presence_updated_at"),
        status=Max("status_changed"),
    )
    sync = SyncRun.objects.aggregate(last=Max("id"), finished=Max("finished_at"))
    raw = (
        f"{jobs['last']}|{jobs['count']}|{roster['versions']}|{roster['count']}|"
        f"{roster['presence']}|{roster['status']}|{sync['last']}|{sync['finished']}|{health_key}"
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _pending_moves() -> dict[str, tuple[int, list[str], list[str]]]:
    """agent id -> (job id, campaigns in, campaigns out) of the newest unfinished job moving it."""
    moves: dict[str, tuple[int, list[str], list[str]]] = {}
    jobs = (
        AllocationJob.objects.exclude(status__in=AllocationJob.TERMINAL)
        .order_by("pk")
        .values_list("pk", "agent_ids", "campaign_ids_in", "campaign_ids_out")
    )
    for job_id, agent_ids, ins, outs in jobs:
        for agent_id in agent_ids:
            moves[agent_id] = (job_id, ins, outs)
    return moves
