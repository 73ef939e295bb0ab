"""From cards the supervisor picked and a target column to a move, and its preview.

A pick is ``<column>/<agent>/<roster version>`` (each part URL-quoted; column "" is Unassigned):
the agent leaves the column it was picked from and joins the target. The board posts its picks as
one field (``picks``, one pick per line: no URL or form-field limit up to ALLOCATION_MAX_AGENTS);
the no-JavaScript board form sends one ``pick`` field per ticked card. ``selection_from`` parses
either, once, into ``Pick`` tuples; ``move_preview`` builds everything else from those. The confirm
form posts the same picks and target back, and the submit runs ``move_preview`` again, so what is
submitted is what was shown. ``allocations`` validates again and decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from django.conf import settings
from django.utils import timezone

from dashboard.directory.models import Agent, Campaign
from dashboard.directory.selectors import agent_rows, campaign_rows
from dashboard.presence.selectors import listener_health

# Cards, not agents: an agent in two campaigns is two cards; agents are capped in move_preview.
MAX_CARDS_PER_AGENT = 4
_VERSION = re.compile(r"[0-9]{1,18}")  # ASCII digits only: "²".isdigit() is True, int("²") fails
_MAX_ID = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PickError(ValueError):
    """The picks or target cannot make a move; ``field`` names the input."""

    def __init__(self, message: str, field: str = "picks"):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Pick:
    column: str  # campaign id the card was picked from; "" = Unassigned
    agent: str
    version: int  # the agent's roster version the board showed

    @property
    def token(self) -> str:
        return f"{quote(self.column, safe='')}/{quote(self.agent, safe='')}/{self.version}"


@dataclass(frozen=True)
class Selection:
    """What a preview and a submit are built from: parsed once, passed along as is."""

    picks: tuple[Pick, ...]
    target: str  # campaign id; "" = Unassigned

    @property
    def picks_field(self) -> str:
        """The picks as the confirm form posts them back (one field)."""
        return "\n".join(p.token for p in self.picks)


@dataclass
class Headcount:
    campaign_id: str
    name: str
    state: str
    state_label: str
    before: int
    after: int


@dataclass(frozen=True)
class AgentLine:
    id: str
    name: str


@dataclass
class MovePreview:
    selection: Selection
    agents: list[AgentLine]  # in pick order, names resolved once (not per line in the template)
    campaign_ids_in: list[str]
    campaign_ids_out: list[str]
    target_name: str
    expected_versions: dict[str, int]  # one version per agent, for the whole move
    headcounts: list[Headcount] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def agent_ids(self) -> list[str]:
        return [a.id for a in self.agents]

    @property
    def summary(self) -> str:
        who = self.agents[0].name if len(self.agents) == 1 else f"{len(self.agents)} agents"
        return f"Move {who} to {self.target_name}"


def _check_id(value: str, name: str) -> str:
    if len(value) > _MAX_ID or _CONTROL.search(value):
        raise PickError(
            f"{name}: an id is longer than {_MAX_ID} characters or has control characters", name
        )
    return value


def parse_picks(values: Sequence[str], field_name: str = "picks") -> tuple[Pick, ...]:
    """``column/agent/version`` strings to picks, in order, a card picked twice kept once."""
    if len(values) > settings.ALLOCATION_MAX_AGENTS * MAX_CARDS_PER_AGENT:
        raise PickError(
            f"Select at most {settings.ALLOCATION_MAX_AGENTS} agents at once", field_name
        )
    picks: dict[tuple[str, str], Pick] = {}
    for value in values:
        parts = value.split("/")
        if len(parts) != 3 or not parts[1]:
            raise PickError(
                f"{field_name}: a selected card could not be read ({value[:80]!r}); "
                "reload the board",
                field_name,
            )
        if not _VERSION.fullmatch(parts[2]):
            raise PickError(
                f"{field_name}: the roster versions sent with the move are not valid "
                f"({value[:80]!r}); reload the board",
                field_name,
            )
        column = _check_id(unquote(parts[0]), field_name)
        agent = _check_id(unquote(parts[1]), field_name)
        picks.setdefault((column, agent), Pick(column, agent, int(parts[2])))
    if not picks:
        raise PickError("Select at least one agent to move", field_name)
    return tuple(picks.values())


def selection_from(data: Mapping) -> Selection:
    """The selection in a request's GET or POST data (a QueryDict): ``picks`` (one field, a pick
    per line, as the board and the confirm form post it) or ``pick`` (one field per ticked card,
    the no-JavaScript board form), and ``target``."""
    if data.get("picks"):
        picks = parse_picks(data["picks"].split(), "picks")
    else:
        picks = parse_picks(data.getlist("pick"), "pick")
    target = _check_id(data.get("target", "").strip(), "target")
    return Selection(picks=picks, target=target)


def move_preview(selection: Selection) -> MovePreview:
    """What moving the picked cards to the target (a campaign id, "" = Unassigned) would do."""
    picks, target = selection.picks, selection.target
    campaigns = {c.id: c for c in campaign_rows()}
    if target and target not in campaigns:
        raise PickError("The target campaign no longer exists; reload the board", "target")
    agent_ids = list(dict.fromkeys(p.agent for p in picks))
    if len(agent_ids) > settings.ALLOCATION_MAX_AGENTS:
        raise PickError(f"Select at most {settings.ALLOCATION_MAX_AGENTS} agents at once")
    agents = {a.id: a for a in agent_rows(ids=agent_ids)}
    unknown = [a for a in agent_ids if a not in agents]
    if unknown:
        raise PickError(f"Unknown or inactive agents: {', '.join(unknown[:10])}")
    outs = sorted({p.column for p in picks if p.column and p.column != target})
    for column in outs:
        if column not in campaigns:
            raise PickError("A campaign on the board no longer exists; reload the board")
    ins = [target] if target else []
    already = [a for a in agent_ids if target and target in agents[a].campaign_ids]
    if target and len(already) == len(agent_ids) and not outs:
        raise PickError("The selected agents are already in that campaign", "target")
    if not ins and not outs:
        raise PickError("The selected agents are already unassigned", "target")

    # An agent's cards all carry the agent's one version; if two disagree, the older one is what
    # the supervisor may not have seen, so the move is checked against it.
    versions: dict[str, int] = {}
    for p in picks:
        versions[p.agent] = min(versions.get(p.agent, p.version), p.version)
    stale = sorted(a for a, v in versions.items() if agents[a].roster_version != v)
    preview = MovePreview(
        selection=selection,
        agents=[AgentLine(a, agents[a].name) for a in agent_ids],
        campaign_ids_in=ins,
        campaign_ids_out=outs,
        target_name=campaigns[target].name if target else "Unassigned",
        expected_versions=versions,
        stale=[agents[a].name for a in stale],
    )
    _count_heads(preview, campaigns)
    _warn(preview, agents, campaigns)
    _warn_extra_exits(preview, agents, campaigns)
    _warn_may_not_take(preview)
    return preview


def _count_heads(preview: MovePreview, campaigns) -> None:
    moving = set(preview.agent_ids)
    for campaign_id in [*preview.campaign_ids_in, *preview.campaign_ids_out]:
        campaign = campaigns[campaign_id]
        members = set(campaign.agent_ids)
        joins = campaign_id in preview.campaign_ids_in
        after = members | moving if joins else members - moving
        preview.headcounts.append(
            Headcount(
                campaign_id,
                campaign.name,
                campaign.state,
                campaign.state_label,
                len(members),
                len(after),
            )
        )


def _warn(preview: MovePreview, agents, campaigns) -> None:
    on_call = [agents[a].name for a in preview.agent_ids if agents[a].on_phone]
    if on_call:
        preview.warnings.append(
            f"On a call now: {_names(on_call)}. The dialer applies the move after the call ends."
        )
    for campaign_id in preview.campaign_ids_in:
        campaign = campaigns[campaign_id]
        if campaign.state_unknown:
            # Worded so it never reads "<name> is …": no source says what the campaign is.
            preview.warnings.append(
                f"No source gives the state of {campaign.name}: CIC does not report campaign "
                "states and no admin has recorded one, so whether it is running is unknown. "
                "Check Dialer Manager before relying on the move."
            )
        elif campaign.state in (
            Campaign.State.OFF,
            Campaign.State.PAUSED,
            Campaign.State.COMPLETED,
        ):
            provenance = f" {campaign.state_provenance}" if campaign.state_provenance else ""
            preview.warnings.append(
                f"{campaign.name} is {campaign.state_label.lower()} ({campaign.state_basis}): "
                f"agents moved in get no calls from it until it runs.{provenance}"
            )
    for count in preview.headcounts:
        target = campaigns[count.campaign_id].staffing_target
        if target is not None and count.after < target <= count.before:
            preview.warnings.append(
                f"{count.name} drops to {count.after} agent{'s' if count.after != 1 else ''}, "
                f"under its staffing target of {target} (recorded by an admin)."
            )
    leaving = set(preview.campaign_ids_out)
    joining = set(preview.campaign_ids_in)
    idle = [
        agents[a].name
        for a in preview.agent_ids
        if not joining and not (set(agents[a].campaign_ids) - leaving)
    ]
    if idle:
        preview.warnings.append(f"Left in no campaign: {_names(idle)}.")
    if preview.stale:
        preview.warnings.append(
            f"Moved by someone else since your board loaded: {_names(preview.stale)}. "
            "Reload the board before moving them."
        )


def _warn_may_not_take(preview: MovePreview) -> None:
    """CIC applies a move only to agents logged in to Dialer from their own client, and an agent
    holding the Logon Campaign right may log themselves back (REF 10): say so before moving."""
    names = {a.id: a.name for a in preview.agents}
    rows = list(
        Agent.objects.filter(id__in=names).values_list(
            "id",
            "has_live_client",
            "client_updated_at",
            "has_logon_campaign_right",
            "logon_right_read_at",
        )
    )
    no_client = [(names[r[0]], r[2]) for r in rows if r[1] is False]
    right = [(names[r[0]], r[4]) for r in rows if r[3]]
    if no_client:
        heard = max((at for _, at in no_client if at), default=None)
        source = "as CIC's session list reported it to the ICWS listener"
        source += f", last at {_when(heard)}" if heard else ""
        if listener_health().presence_stale:
            source += "; the listener is down now, so this may be out of date"
        preview.warnings.append(
            f"No live CIC client: {_names(sorted(n for n, _ in no_client))} ({source}). CIC "
            "accepts the move, but it may not take until they log in."
        )
    if right:
        read = min((at for _, at in right if at), default=None)
        source = "the user's securityRights in CIC"
        source += f", read by the directory sync at {_when(read)}" if read else ""
        preview.warnings.append(
            f"Holds the Logon Campaign right: {_names(sorted(n for n, _ in right))} ({source}). "
            "The move may not take unless the supervisor-override setting is on, and they can "
            "log back themselves."
        )


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def _warn_extra_exits(preview: MovePreview, agents, campaigns) -> None:
    """allocate-agents takes one list of campaigns out for all its agents, so a selection picked
    from several columns takes each agent out of every one of them it belongs to: say so."""
    picked_from: dict[str, set[str]] = {}
    for p in preview.selection.picks:
        picked_from.setdefault(p.agent, set()).add(p.column)
    leaving = set(preview.campaign_ids_out)
    extra = []
    for agent in preview.agent_ids:
        also = sorted(leaving & set(agents[agent].campaign_ids) - picked_from[agent])
        if also:
            left = ", ".join(campaigns[c].name for c in also)
            extra.append(f"{agents[agent].name} (also leaves {left})")
    if extra:
        preview.warnings.append(
            "The selection comes from several columns, so each agent leaves every one of them: "
            f"{_names(extra)}. Move one column at a time to keep them there."
        )


def _names(names: list[str], shown: int = 5) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")
