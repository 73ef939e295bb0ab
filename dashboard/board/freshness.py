"""Whether an open move confirmation still shows what the move would do.

When the dialog opens, ``snapshot`` records what it was built from (each campaign's headcount,
each agent's presence, the agents already known to be moved by someone else). The dialog sends
that back while it is open, and ``changes`` says, in words, what differs now ("Since you opened
this: ..."). The snapshot's ``fingerprint`` is how the submit tells whether the supervisor saw
the rosters they are confirming: the form carries the fingerprint of what was last shown, and a
submit whose current headcounts or moved agents differ shows the changes and asks again instead
of moving. Presence is shown but not in the fingerprint: across a 1,000-agent selection some
agent changes state every few seconds, and a confirm that had to race that could never be made.
The roster versions are checked again by ``allocations`` in any case.
"""

from __future__ import annotations

import hashlib
import json

from dashboard.board.moves import MovePreview
from dashboard.board.selectors import PRESENCE_WORDS
from dashboard.core.params import BadParameter
from dashboard.directory.models import Agent
from dashboard.directory.selectors import AgentRow

MAX_SNAPSHOT_CHARS = 400_000  # ~5,000 agents' presences; a hidden field the server wrote
SHOWN = 6  # changes listed before "and n more"


def snapshot(preview: MovePreview) -> dict:
    """What a confirmation shows that another supervisor, the dialer or an agent can change.

    Presence from one narrow query, read through ``AgentRow.presence`` (where its meaning is
    decided): ``agent_rows`` would also load every agent's workgroups and campaigns, which at
    1,000 agents made this the larger half of the dialog's poll.
    """
    fields = ("id", "status_id", "logged_in", "on_phone")
    rows = Agent.objects.filter(id__in=preview.agent_ids, active=True).values_list(*fields)
    presence = {
        i: AgentRow(
            id=i,
            name="",
            extension="",
            status_id=status,
            logged_in=logged_in,
            on_phone=on_phone,
            roster_version=0,
            held_by_job_id=None,
        ).presence
        for i, status, logged_in, on_phone in rows
    }
    return {
        "h": {h.campaign_id: [h.name, h.before] for h in preview.headcounts},
        "p": {a.id: presence.get(a.id, "gone") for a in preview.agents},
        "s": sorted(preview.stale),
    }


def encode(snap: dict) -> str:
    return json.dumps(snap, separators=(",", ":"), sort_keys=True)


def fingerprint(snap: dict) -> str:
    """Of the rosters only (headcounts, agents moved by someone else): see the module doc."""
    rosters = {"h": snap["h"], "s": snap["s"]}
    return hashlib.sha256(encode(rosters).encode()).hexdigest()[:20]


def parse_snapshot(raw: str) -> dict:
    """The snapshot the confirm form sent back; ``BadParameter`` naming it if unreadable."""
    problem = "could not be read: reopen the confirmation"
    if len(raw) > MAX_SNAPSHOT_CHARS:
        raise BadParameter("snapshot", problem)
    try:
        snap = json.loads(raw)
    except ValueError:
        raise BadParameter("snapshot", problem) from None
    if not (
        isinstance(snap, dict)
        and isinstance(snap.get("h"), dict)
        and isinstance(snap.get("p"), dict)
        and isinstance(snap.get("s"), list)
        and all(isinstance(v, list) and len(v) == 2 for v in snap["h"].values())
    ):
        raise BadParameter("snapshot", problem)
    return snap


def changes(before: dict, now: dict, names: dict[str, str]) -> list[str]:
    """What differs, in words, capped at ``SHOWN`` lines; ``names``: agent id -> name."""
    lines = []
    moved = [n for n in now["s"] if n not in set(before["s"])]
    if moved:
        lines.append(f"moved by someone else: {_names(moved)}")
    for campaign_id, (name, count) in now["h"].items():
        old = before["h"].get(campaign_id)
        if old and old[1] != count:
            lines.append(f"{name} has {count} agents now ({old[1]} when you opened this)")
    by_presence: dict[str, list[str]] = {}
    for agent_id, presence in now["p"].items():
        old = before["p"].get(agent_id)
        if old is not None and old != presence:
            by_presence.setdefault(presence, []).append(names.get(agent_id, agent_id))
    for presence, who in sorted(by_presence.items()):
        if presence == "gone":
            lines.append(f"no longer in the directory: {_names(who)}")
        else:
            verb = "is" if len(who) == 1 else "are"
            lines.append(f"{_names(who)} {verb} now {PRESENCE_WORDS.get(presence, presence)}")
    more = len(lines) - SHOWN
    return lines[:SHOWN] + ([f"and {more} more changes"] if more > 0 else [])


def _names(names: list[str], shown: int = 5) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")
