"""Reads of the directory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from dashboard.directory.models import RosterEntry


def roster_of(agent_ids: Iterable[str]) -> dict[str, list[str]]:
    """agent id -> sorted campaign ids, for every given agent (empty list when in none)."""
    ids = list(agent_ids)
    result: dict[str, list[str]] = {agent_id: [] for agent_id in ids}
    grouped: dict[str, list[str]] = defaultdict(list)
    for agent_id, campaign_id in RosterEntry.objects.filter(agent_id__in=ids).values_list(
        "agent_id", "campaign_id"
    ):
        grouped[agent_id].append(campaign_id)
    for agent_id, campaigns in grouped.items():
        result[agent_id] = sorted(campaigns)
    return result
