"""What a submitted move reads from the directory, in one round trip (``job_submit`` only).

Validation needs the names of the move's active agents and campaigns (unknown ids are refused,
and the names go into the audit rows), the conflict check needs the agents' roster versions, and
the audit row needs their roster before the move. Three queries were three round trips of a
POST's thirteen; under load each one waits for PostgreSQL to be scheduled, so they are one
``UNION ALL`` of rows tagged by kind.

Read outside the job's transaction, as before: at READ COMMITTED a read inside it saw no more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import IntegerField, Value

from dashboard.core import lookups  # noqa: F401 - registers field__any_of
from dashboard.core.prepared import MAX_LIST, PreparedRead
from dashboard.directory.models import Agent, Campaign, RosterEntry

_AGENT, _CAMPAIGN, _ROSTER = 0, 1, 2


@dataclass
class MoveReads:
    agent_names: dict[str, str] = field(default_factory=dict)  # active agents only
    agent_versions: dict[str, int] = field(default_factory=dict)
    campaign_names: dict[str, str] = field(default_factory=dict)  # active campaigns only
    # agent id -> sorted campaign ids, for every agent asked about ([] when in none), as
    # ``directory.selectors.roster_of`` gives it.
    rosters: dict[str, list[str]] = field(default_factory=dict)

    def stale_agents(self, expected: dict[str, int]) -> list[str]:
        """Agents whose roster version is not the one the requester saw, sorted (the rule of
        ``allocations.selectors.stale_agents``, on the versions read here)."""
        return sorted(a for a in expected if self.agent_versions.get(a) != expected[a])


def _move_query(
    agent_ids: list[str], campaign_ids: list[str], roster_of: list[str], among: str = "in"
):
    """``among``: the agents' lookup, ``in`` (one parameter per id) or ``any_of`` (one array)."""
    none = Value(None, output_field=IntegerField())
    agents = (
        Agent.objects.filter(**{f"id__{among}": agent_ids}, active=True)
        .order_by()
        .values_list(Value(_AGENT), "id", "name", "roster_version")
    )
    campaigns = (
        Campaign.objects.filter(id__in=campaign_ids, active=True)
        .order_by()
        .values_list(Value(_CAMPAIGN), "id", "name", none)
    )
    roster = (
        RosterEntry.objects.filter(**{f"agent_id__{among}": roster_of})
        .order_by()
        .values_list(Value(_ROSTER), "agent_id", "campaign_id", none)
    )
    return agents.union(campaigns, roster, all=True)


# Compiled once per number of agents and campaigns: building the union took 1.8 ms of a
# one-agent POST's 9 ms of Python (``core.prepared``).
_MOVE_READ = PreparedRead(_move_query)


def read_move(agent_ids: list[str], campaign_ids: list[str]) -> MoveReads:
    reads = MoveReads(rosters={a: [] for a in agent_ids})
    if len(agent_ids) > MAX_LIST:
        # Not kept compiled (``core.prepared``): built now, its agents as one array parameter
        # each time they appear (``core.lookups.AnyOf``). As ``in`` lists, a 5,000-agent move's
        # 10,000 parameters were prepared one by one by the ORM and bound by psycopg, half of
        # the POST's CPU.
        query = _move_query(agent_ids, campaign_ids, agent_ids, among="any_of")
        rows = list(query)
    else:
        rows = _MOVE_READ.rows(agent_ids, campaign_ids, agent_ids)
    for kind, key, text, version in rows:
        if kind == _AGENT:
            reads.agent_names[key] = text
            reads.agent_versions[key] = version
        elif kind == _CAMPAIGN:
            reads.campaign_names[key] = text
        else:
            reads.rosters[key].append(text)
    for campaigns_of in reads.rosters.values():
        campaigns_of.sort()
    return reads
