"""The approver's view of a move: the board's preview, built again from the roster of now, and
what changed since the move was requested.

The preview is ``board.moves.move_preview``, the one the requester confirmed, fed the picks the
requester's versions describe: its ``stale`` list then names the agents moved by someone since.
``changes`` adds what the preview cannot know (headcounts then and now, agents gone).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dashboard.approvals.models import Approval
from dashboard.board.moves import Pick, PickError, Selection, move_preview
from dashboard.directory.models import Agent, RosterEntry
from dashboard.directory.selectors import agent_names, campaign_names, roster_of


def snapshot(agent_ids: list[str], campaign_ids: list[str]) -> dict:
    """What the roster looked like when approval was requested: each agent's campaigns and
    version, and each campaign's headcount."""
    versions = dict(Agent.objects.filter(id__in=agent_ids).values_list("id", "roster_version"))
    return {
        "roster": roster_of(agent_ids),
        "versions": versions,
        "headcounts": _headcounts(campaign_ids),
    }


def _headcounts(campaign_ids: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(campaign_ids, 0)
    for campaign_id in RosterEntry.objects.filter(campaign_id__in=campaign_ids).values_list(
        "campaign_id", flat=True
    ):
        counts[campaign_id] += 1
    return counts


@dataclass
class Review:
    approval: Approval
    preview: object | None  # board.moves.MovePreview, or None when it cannot be built any more
    error: str = ""
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.error)

    @property
    def versions(self) -> dict[str, int]:
        """The versions the approver sees now; the approved move is checked against them."""
        return _current_versions(self.approval.agent_ids)


def review(approval: Approval) -> Review:
    """The approval's move previewed against the roster of now, with what changed."""
    then = approval.snapshot or {}
    seen = approval.expected_versions or then.get("versions", {})
    preview, error = None, ""
    # The board's preview has one target; a move into several campaigns (the API) has none.
    if len(approval.campaign_ids_in) <= 1:
        try:
            preview = move_preview(_selection(approval, seen))
        except PickError as exc:
            error = str(exc)
    changes = _changes(approval, then, seen)
    return Review(approval=approval, preview=preview, error=error, changes=changes)


def _selection(approval: Approval, seen: dict) -> Selection:
    """Picks for the stored move: each agent from every campaign it leaves that it is in now
    (or from Unassigned), at the version the requester saw."""
    roster = roster_of(approval.agent_ids)
    outs = set(approval.campaign_ids_out)
    current = _current_versions(approval.agent_ids)
    picks = []
    for agent in approval.agent_ids:
        version = int(seen.get(agent, current.get(agent, 0)))
        columns = sorted(outs & set(roster.get(agent, []))) or [""]
        picks.extend(Pick(column, agent, version) for column in columns)
    target = approval.campaign_ids_in[0] if approval.campaign_ids_in else ""
    return Selection(picks=tuple(picks), target=target)


def _current_versions(agent_ids: list[str]) -> dict[str, int]:
    return dict(
        Agent.objects.filter(id__in=agent_ids, active=True).values_list("id", "roster_version")
    )


def _changes(approval: Approval, then: dict, seen: dict) -> list[str]:
    changes: list[str] = []
    current = _current_versions(approval.agent_ids)
    gone = [a for a in approval.agent_ids if a not in current]
    if gone:
        changes.append(f"No longer active: {_list(gone)}.")
    moved = sorted(a for a, v in current.items() if a in seen and seen[a] != v)
    if moved:
        roster_then = then.get("roster", {})
        roster_now = roster_of(moved)
        names = campaign_names()
        people = agent_names(moved)
        lines = [
            f"{people.get(a, a)} ({_campaigns(roster_then.get(a), names)} -> "
            f"{_campaigns(roster_now[a], names)})"
            for a in moved
        ]
        changes.append(f"Moved by someone since the request: {_list(lines)}.")
    counts_then = then.get("headcounts", {})
    counts_now = _headcounts(list(counts_then))
    names = campaign_names(list(counts_then))
    for campaign_id, before in counts_then.items():
        now = counts_now.get(campaign_id, 0)
        if now != before:
            changes.append(
                f"{names.get(campaign_id, campaign_id)} had {before} agents when requested, "
                f"{now} now."
            )
    return changes


def _campaigns(ids, names: dict[str, str]) -> str:
    if ids is None:
        return "unknown"
    return ", ".join(names.get(c, c) for c in ids) or "no campaign"


def _list(items: list[str], shown: int = 10) -> str:
    more = len(items) - shown
    return ", ".join(items[:shown]) + (f" and {more} more" if more > 0 else "")
