"""What the board shows: campaign columns of agent cards, with moves in flight projected.

A job that is queued or running already shows its agents where it will put them, marked pending;
if the job fails, the next render shows them where the roster says they are again. The query
count is fixed: it does not grow with the number of agents or campaigns.

Each column carries its totals (agents, on a call, available, away, logged in against the
staffing target an admin recorded) and each card the moment its agent entered the present state,
so the page can count time in state itself between renders (``board.js``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import quote

from django.db import connection
from django.db.models import BigIntegerField, Count, Max, Q, Sum
from django.db.models.functions import Cast, Coalesce, Extract, Floor
from django.utils import timezone

from dashboard.agentpage.selectors import waiting_agent_ids, waiting_revision
from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import Agent, Campaign, RosterEntry, SyncRun
from dashboard.directory.selectors import AgentRow, CampaignRow, campaign_rows
from dashboard.directory.selectors import workgroup_names as _workgroup_names

# Columns of campaigns that cannot take calls start collapsed.
COLLAPSED_STATES = frozenset({Campaign.State.OFF, Campaign.State.COMPLETED})
# A card's presence class -> how the board says it (filter, legend, confirmation changes).
PRESENCE_WORDS = {
    "available": "available",
    "on-call": "on a call",
    "away": "away",
    "offline": "logged out",
}
PRESENCES = tuple(PRESENCE_WORDS)


@dataclass
class Card:
    agent: AgentRow
    campaign_id: str  # the column it sits in; "" for Unassigned
    pending_job: int | None = None
    hidden: bool = False  # filtered out: rendered with ``hidden``, so a looser filter shows it
    since: int | None = None  # epoch seconds the agent entered its present state, if known
    # Left out by the workgroup filter, which the server applies (board.js filters the rest).
    outside_workgroup: bool = False
    # Moved in, and the agent has not sent ready-for-calls yet (dashboard.agentpage).
    waiting_ready: bool = False

    @property
    def pick(self) -> str:
        """The card's value in the move form: column, agent and the roster version seen."""
        return f"{quote(self.campaign_id, safe='')}/{self.agent_pick}"

    @property
    def agent_pick(self) -> str:
        """The agent's part of ``pick`` (the same in every column it is in)."""
        return f"{quote(self.agent.id, safe='')}/{self.agent.roster_version}"


@dataclass
class Column:
    campaign: CampaignRow | None  # None: Unassigned
    cards: list[Card] = field(default_factory=list)
    hidden: bool = False  # its campaign state is filtered out
    lazy: bool = False  # collapsed and not opened: its cards are counted, not rendered
    staffing_target: int | None = None  # agents wanted, recorded by an admin

    @cached_property
    def totals(self) -> dict[str, int]:
        """Cards per presence: ``on_call``, ``available``, ``away``, ``offline``."""
        counts = dict.fromkeys(PRESENCES, 0)
        for card in self.cards:
            counts[card.agent.presence] += 1
        return {word.replace("-", "_"): n for word, n in counts.items()}

    @property
    def logged_in(self) -> int:
        return len(self.cards) - self.totals["offline"]

    @property
    def understaffed(self) -> bool:
        return self.staffing_target is not None and self.logged_in < self.staffing_target

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
    server_now: int = 0  # epoch seconds at render: the page's clock offset for time in state

    @property
    def campaigns(self) -> list[Column]:
        return [c for c in self.columns if c.campaign is not None]


def fold(text: str) -> str:
    """Lower case without combining marks: "José" -> "jose"."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def board_view(
    *,
    workgroup: str = "",
    q: str = "",
    presence: str = "",
    state: str = "",
    opened: frozenset[str] = frozenset(),
) -> Board:
    """The board with every card; what the filters leave out is marked hidden.

    Marked, not dropped: without JavaScript the browser hides them (the ``hidden`` attribute);
    with it, the page filters in place and a looser filter shows cards already on the page.
    Columns that start collapsed (off, completed) are ``lazy`` unless their id is in
    ``opened``: the page renders their head and totals, and their cards once opened.
    """
    agents = _board_agents()
    query = fold(q.strip())
    campaigns = campaign_rows(with_roster=False)
    names = _workgroup_names()
    pending = _pending_moves()
    waiting = waiting_agent_ids()
    targets = dict(
        Campaign.objects.filter(active=True, staffing_target__isnull=False).values_list(
            "id", "staffing_target"
        )
    )

    columns = {c.id: Column(campaign=c, staffing_target=targets.get(c.id)) for c in campaigns}
    unassigned = Column(campaign=None)
    for agent, entered in agents:
        agent_id = agent.id
        job_id = None
        if agent_id in pending:
            job_id, ins, outs = pending[agent_id]
            placed = sorted(((set(agent.campaign_ids) - set(outs)) | set(ins)) & columns.keys())
        else:  # campaign_ids are sorted already
            placed = [c for c in agent.campaign_ids if c in columns]
        outside = bool(workgroup) and workgroup not in agent.workgroup_ids
        hidden = outside or not (
            (not query or query in fold(f"{agent.name} {agent_id}"))
            and (not presence or agent.presence == presence)
        )
        ready = agent_id in waiting
        for campaign_id in placed:
            columns[campaign_id].cards.append(
                Card(agent, campaign_id, job_id, hidden, entered, outside, ready)
            )
        if not placed:
            unassigned.cards.append(Card(agent, "", job_id, hidden, entered, outside, ready))

    for column in columns.values():
        column.hidden = bool(state) and column.state != state
        column.lazy = column.collapsed and column.id not in opened and bool(column.cards)
    return Board(
        columns=[unassigned, *columns.values()],
        workgroups=names,
        agent_count=len(agents),
        pending_jobs=sorted({job for job, _, _ in pending.values()}),
        server_now=int(timezone.now().timestamp()),
    )


@dataclass
class BoardShell:
    """What the page around the columns needs (filters, "Move to"), without the cards."""

    workgroups: dict[str, str]
    campaigns: list[CampaignRow]
    has_agents: bool


def board_shell() -> BoardShell:
    """Three small queries: the columns themselves may come from the rendered-columns cache."""
    return BoardShell(
        workgroups=_workgroup_names(),
        campaigns=campaign_rows(with_roster=False),
        has_agents=Agent.objects.filter(active=True).exists(),
    )


def _board_agents() -> list[tuple[AgentRow, int | None]]:
    """Active agents by name, each with the epoch seconds its present state began (or None).

    Three queries, as ``directory.selectors.agent_rows`` (the same rows) but lighter: tuples,
    not dicts, no DISTINCT (no join to undo), and the time in state read in the same query.
    That time is CIC's own ``statusChanged`` when the server gave it; else when the listener
    heard the state (``presence_updated_at``). CIC's time comes first because the listener
    stamps every message it applies, and a reconnect re-reads every agent's status: its stamp
    would restart every clock on the board. On PostgreSQL the database does the arithmetic:
    loading 5,000 timestamps into Python datetimes cost more than the rest of the board's reads.
    """
    since = Coalesce("status_changed", "presence_updated_at")
    postgres = connection.vendor == "postgresql"
    # Floored as Python's int() does: a cast rounds, a second ahead half the time.
    epoch = Cast(Floor(Extract(since, "epoch")), BigIntegerField()) if postgres else since
    fields = ("id", "name", "extension", "status_id", "logged_in", "on_phone", "roster_version")
    rows = (
        Agent.objects.filter(active=True)
        .annotate(since=epoch)
        .order_by("name", "id")
        .values_list(*fields, "held_by_job_id", "since")
    )
    agents: dict[str, tuple[AgentRow, int | None]] = {}
    for agent_id, name, extension, status, logged_in, on_phone, version, held, entered in rows:
        if entered is not None and not postgres:
            entered = int(entered.timestamp())
        row = AgentRow(agent_id, name, extension, status, logged_in, on_phone, version, held)
        agents[agent_id] = (row, entered)
    memberships = Agent.workgroups.through.objects.values_list("agent_id", "workgroup_id")
    for agent_id, group_id in memberships:
        if agent_id in agents:
            agents[agent_id][0].workgroup_ids.append(group_id)
    for agent_id, campaign_id in RosterEntry.objects.values_list("agent_id", "campaign_id"):
        if agent_id in agents:
            agents[agent_id][0].campaign_ids.append(campaign_id)
    for row, _ in agents.values():
        if len(row.campaign_ids) > 1:
            row.campaign_ids.sort()
        if len(row.workgroup_ids) > 1:
            row.workgroup_ids.sort()
    return list(agents.values())


STRUCTURE_LENGTH = 16  # hex digits of the structure part; the presence stamp follows
HEX = "0123456789abcdef"
# A presence-only poll answers with at most this many agents; more, and the board re-renders.
DELTA_MAX = 300
# A presence write may commit after a later-stamped one was already read (the listener's bulk
# UPDATE and the poll race): the delta looks this far back past the stamp the page shows, and
# re-sending an unchanged agent is harmless.
DELTA_OVERLAP = dt.timedelta(seconds=1)


def board_revision(health_key: str = "") -> str:
    """Structure then presence, in hex: changes whenever anything the board shows may have.

    The board's one-second poll sends the revision it shows and gets 204 (nothing to swap)
    while it is current, instead of re-rendering thousands of cards; when only the presence
    part moved, it gets the changed agents (``presence_delta``). The health the top bar shows
    is in the structure part: a poll that is cheap when nothing changed is why this is a poll,
    not server-sent events, which would hold a gunicorn sync worker per open board.
    """
    return f"{structure_revision(health_key)}{presence_stamp():x}"


def structure_revision(health_key: str = "") -> str:
    """What only a full render shows: roster, campaigns, jobs, sync, health, ready-for-calls."""
    jobs = AllocationJob.objects.aggregate(last=Max("updated_at"), count=Count("id"))
    roster = Agent.objects.aggregate(
        versions=Sum("roster_version"), count=Count("id"), active=Count("id", filter=Q(active=True))
    )
    sync = SyncRun.objects.aggregate(last=Max("id"), finished=Max("finished_at"))
    # What an admin records on a campaign (state, target, name) changes no timestamp.
    campaigns = Campaign.objects.order_by("id").values_list(
        "id", "name", "state", "staffing_target", "active"
    )
    raw = (
        f"{jobs['last']}|{jobs['count']}|{roster['versions']}|{roster['count']}|"
        f"{roster['active']}|{sync['last']}|{sync['finished']}|{health_key}|"
        f"{list(campaigns)}|{waiting_revision()}"
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:STRUCTURE_LENGTH]


def presence_stamp() -> int:
    """The newest presence write, microseconds since the epoch (0: none yet); one query.

    The listener stamps ``presence_updated_at`` on every status it applies (presence, CIC
    status, on-call and ``status_changed`` together), so this moves whenever a card's
    presence part may have.
    """
    last = Agent.objects.aggregate(last=Max("presence_updated_at"))["last"]
    return 0 if last is None else _micros(last)


def presence_delta(shown: str, current: str, opened: frozenset[str] = frozenset()) -> dict | None:
    """What brings the presence on a board showing revision ``shown`` up to ``current``.

    ``agents``: those whose presence may differ. Each

    entry is what a card's presence part shows: ``presence`` (its class), the CIC ``status``
    (blank when logged out), ``on_phone`` and ``since`` (epoch seconds the state began, or None).
    ``columns``: campaign id -> totals (as ``Column.totals``) of the columns the page shows no
    cards of (collapsed, not in ``opened``) that hold one of those agents, counted here.

    None when a delta cannot bring that board up to ``current``: the structure part differs,
    ``shown`` is not a revision, more than ``DELTA_MAX`` agents changed (one render is then
    cheaper than patching), or such an unrendered column is touched while a move is in flight
    (its cards are then where the job will put them, not where the roster says).
    """
    size = STRUCTURE_LENGTH
    stamp = shown[size:]
    if shown[:size] != current[:size] or not 0 < len(stamp) <= 16 or stamp.strip(HEX):
        return None
    if int(stamp, 16) >= int(current[size:], 16):
        return {"agents": [], "columns": {}}
    after = dt.datetime.fromtimestamp(int(stamp, 16) / 1e6, tz=dt.UTC) - DELTA_OVERLAP
    rows = list(
        Agent.objects.filter(active=True, presence_updated_at__gt=after)
        .order_by()
        .values_list(
            "id", "status_id", "logged_in", "on_phone", "status_changed", "presence_updated_at"
        )[: DELTA_MAX + 1]
    )
    if len(rows) > DELTA_MAX:
        return None
    columns = _unrendered_totals([row[0] for row in rows], opened) if rows else {}
    if columns is None:
        return None
    out = []
    for agent_id, status_id, logged_in, on_phone, changed, heard in rows:
        # The directory's one rule for the presence word (AgentRow.presence).
        word = AgentRow(agent_id, "", "", status_id, logged_in, on_phone, 0, None).presence
        since = changed or heard
        out.append(
            {
                "id": agent_id,
                "presence": word,
                "status": "" if word == "offline" else status_id,
                "on_phone": bool(on_phone) and word != "offline",
                "since": int(since.timestamp()) if since else None,
            }
        )
    return {"agents": out, "columns": columns}


def _unrendered_totals(agent_ids: list[str], opened: frozenset[str]) -> dict | None:
    """Totals of the collapsed, unopened columns holding ``agent_ids``; None during a move."""
    touched = set(
        RosterEntry.objects.filter(
            agent_id__in=agent_ids, campaign__active=True, campaign__state__in=COLLAPSED_STATES
        )
        .exclude(campaign_id__in=opened)
        .values_list("campaign_id", flat=True)
    )
    if not touched:
        return {}
    if AllocationJob.objects.exclude(status__in=AllocationJob.TERMINAL).exists():
        return None
    totals = {cid: dict.fromkeys(("on_call", "available", "away", "offline"), 0) for cid in touched}
    rows = RosterEntry.objects.filter(campaign_id__in=touched, agent__active=True).values_list(
        "campaign_id", "agent__status_id", "agent__logged_in", "agent__on_phone"
    )
    for campaign_id, status_id, logged_in, on_phone in rows:
        word = AgentRow("", "", "", status_id, logged_in, on_phone, 0, None).presence
        totals[campaign_id][word.replace("-", "_")] += 1
    return totals


def _micros(value: dt.datetime) -> int:
    return int(value.timestamp()) * 1_000_000 + value.microsecond


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
