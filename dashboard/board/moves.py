"""From cards the supervisor picked and a target column to a move, and its preview.

A pick is ``<column>/<agent>/<roster version>`` (each part URL-quoted; column "" is Unassigned):
the agent leaves the column it was picked from and joins the target. The preview reads the
directory only; ``allocations.services.job_submit`` validates again and decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from dashboard.directory.models import Campaign
from dashboard.directory.selectors import agent_rows, campaign_rows

MAX_PICKS = 5000


class PickError(ValueError):
    """The picks or target cannot make a move; ``field`` names the input."""

    def __init__(self, message: str, field: str = "pick"):
        self.field = field
        super().__init__(message)


@dataclass
class Headcount:
    campaign_id: str
    name: str
    state: str
    state_label: str
    before: int
    after: int


@dataclass
class MovePreview:
    agent_ids: list[str]
    agent_names: dict[str, str]
    campaign_ids_in: list[str]
    campaign_ids_out: list[str]
    target_name: str
    expected_versions: dict[str, int]
    headcounts: list[Headcount] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def expected_fields(self) -> list[str]:
        """``agent:version`` strings for the confirm form's hidden inputs."""
        return [f"{agent}:{version}" for agent, version in self.expected_versions.items()]

    @property
    def summary(self) -> str:
        names = [self.agent_names.get(a, a) for a in self.agent_ids]
        who = names[0] if len(names) == 1 else f"{len(names)} agents"
        return f"Move {who} to {self.target_name}"


def parse_picks(values: Iterable[str]) -> list[tuple[str, str, int]]:
    picks: list[tuple[str, str, int]] = []
    seen: set[tuple[str, str]] = set()
    for value in values:
        parts = value.split("/")
        if len(parts) != 3 or not parts[1] or not parts[2].isdigit():
            raise PickError(f"A selected card could not be read ({value[:80]!r}); reload the board")
        column, agent = unquote(parts[0]), unquote(parts[1])
        if (column, agent) not in seen:
            seen.add((column, agent))
            picks.append((column, agent, int(parts[2])))
    if not picks:
        raise PickError("Select at least one agent to move")
    if len(picks) > MAX_PICKS:
        raise PickError(f"Select at most {MAX_PICKS} cards at once")
    return picks


def move_preview(*, picks: Iterable[str], target: str) -> MovePreview:
    """What moving the picked cards to ``target`` (a campaign id, "" = Unassigned) would do."""
    parsed = parse_picks(picks)
    campaigns = {c.id: c for c in campaign_rows()}
    if target and target not in campaigns:
        raise PickError("The target campaign no longer exists; reload the board", "target")
    agent_ids = list(dict.fromkeys(agent for _, agent, _ in parsed))
    agents = {a.id: a for a in agent_rows(ids=agent_ids)}
    unknown = [a for a in agent_ids if a not in agents]
    if unknown:
        raise PickError(f"Unknown or inactive agents: {', '.join(unknown[:10])}")
    outs = sorted({column for column, _, _ in parsed if column and column != target})
    for column in outs:
        if column not in campaigns:
            raise PickError("A campaign on the board no longer exists; reload the board")
    ins = [target] if target else []
    already = [a for a in agent_ids if target and target in agents[a].campaign_ids]
    if target and len(already) == len(agent_ids) and not outs:
        raise PickError("The selected agents are already in that campaign", "target")
    if not ins and not outs:
        raise PickError("The selected agents are already unassigned", "target")

    seen_versions = {agent: version for _, agent, version in parsed}
    stale = sorted(a for a, v in seen_versions.items() if agents[a].roster_version != v)
    preview = MovePreview(
        agent_ids=agent_ids,
        agent_names={a: agents[a].name for a in agent_ids},
        campaign_ids_in=ins,
        campaign_ids_out=outs,
        target_name=campaigns[target].name if target else "Unassigned",
        expected_versions=seen_versions,
        stale=[agents[a].name for a in stale],
    )
    _count_heads(preview, agents, campaigns)
    _warn(preview, agents, campaigns)
    _warn_extra_exits(preview, parsed, agents, campaigns)
    return preview


def _count_heads(preview: MovePreview, agents, campaigns) -> None:
    for campaign_id in [*preview.campaign_ids_in, *preview.campaign_ids_out]:
        campaign = campaigns[campaign_id]
        members = set(campaign.agent_ids)
        if campaign_id in preview.campaign_ids_in:
            after = members | set(preview.agent_ids)
        else:
            after = members - set(preview.agent_ids)
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
        if campaign.state in (Campaign.State.OFF, Campaign.State.PAUSED, Campaign.State.COMPLETED):
            preview.warnings.append(
                f"{campaign.name} is {campaign.state_label.lower()}: agents moved in get no "
                "calls from it until it runs."
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


def _warn_extra_exits(preview: MovePreview, parsed, agents, campaigns) -> None:
    """allocate-agents takes one list of campaigns out for all its agents, so a selection picked
    from several columns takes each agent out of every one of them it belongs to: say so."""
    picked_from: dict[str, set[str]] = {}
    for column, agent, _ in parsed:
        picked_from.setdefault(agent, set()).add(column)
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
