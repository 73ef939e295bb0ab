"""move_reads.read_move of a move longer than core.prepared keeps compiled: the same reads as a
short move's prepared statement, with the agents as one array parameter on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from dashboard.allocations.move_reads import read_move
from dashboard.core.prepared import MAX_LIST
from dashboard.directory.models import Agent, Campaign, RosterEntry
from tests.dashboard.conftest import statements

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_too]


@pytest.fixture
def directory(db):
    c1 = Campaign.objects.create(id="{C1}", name="Renewals", state="on")
    c2 = Campaign.objects.create(id="{C2}", name="Winback", state="on")
    Campaign.objects.create(id="{C3}", name="Old", state="on", active=False)
    agents = Agent.objects.bulk_create(
        Agent(id=f"a{i:03}", name=f"Agent {i}", roster_version=i % 3) for i in range(MAX_LIST + 6)
    )
    Agent.objects.filter(id="a001").update(active=False)
    RosterEntry.objects.bulk_create(
        [RosterEntry(agent=a, campaign=c1) for a in agents]
        + [RosterEntry(agent=a, campaign=c2) for a in agents[::5]]
    )
    return [a.id for a in agents]


def _as_dicts(reads):
    return (reads.agent_names, reads.agent_versions, reads.campaign_names, reads.rosters)


def test_a_long_move_reads_what_short_moves_read_in_one_statement(directory):
    ids = [*directory, "nobody"]
    campaigns = ["{C1}", "{C2}", "{C3}"]
    with statements() as seen:
        long = read_move(ids, campaigns)
    assert len(seen) == 1
    if connection.vendor == "postgresql":
        assert seen[0].count("= ANY(") == 2, "the agents as one array, twice"
    # The same answers, read a few agents at a time through the prepared statement.
    short = [read_move(ids[i : i + 10], campaigns) for i in range(0, len(ids), 10)]
    merged = tuple(
        {k: v for part in short for k, v in _as_dicts(part)[n].items()} for n in range(4)
    )
    assert _as_dicts(long) == merged
    assert "a001" not in long.agent_names and "nobody" not in long.agent_names  # active only
    assert long.rosters["nobody"] == [] and long.rosters["a005"] == ["{C1}", "{C2}"]
    assert long.campaign_names == {"{C1}": "Renewals", "{C2}": "Winback"}
