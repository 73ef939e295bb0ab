"""allocations.together: several statements in one round trip give what each gives alone."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import F

from dashboard.allocations import together
from dashboard.directory.models import Agent, Campaign, RosterEntry
from tests.dashboard.conftest import statements

pytestmark = pytest.mark.postgres_too


@pytest.fixture
def rows(db):
    c1 = Campaign.objects.create(id="{C1}", name="Renewals", state="on")
    c2 = Campaign.objects.create(id="{C2}", name="Winback", state="on")
    for i in range(3):
        agent = Agent.objects.create(id=f"a{i}", name=f"Agent {i}")
        RosterEntry.objects.create(agent=agent, campaign=c1)
    return c1, c2


def test_writes_then_reads_in_order_with_counts_and_converted_rows(rows):
    empty = together.select(RosterEntry.objects.filter(agent_id__in=[]).values_list("id"))
    nothing = together.update(Agent.objects.filter(id__in=[]), roster_version=0)
    with transaction.atomic(), statements() as seen:
        done = together.run(
            [
                together.delete(RosterEntry.objects.filter(agent_id__in=["a0", "a1"])),
                *together.insert_ignoring_conflicts(
                    RosterEntry,
                    [RosterEntry(agent_id=a, campaign_id="{C2}") for a in ("a0", "a1", "a2")],
                ),
                together.update(
                    Agent.objects.filter(id__in=["a0", "a2"]),
                    roster_version=F("roster_version") + 1,
                ),
                together.select(
                    RosterEntry.objects.filter(agent_id__in=["a0", "a1", "a2"])
                    .order_by("agent_id", "campaign_id")
                    .values_list("agent_id", "campaign_id")
                ),
                empty,
                nothing,
            ]
        )
    assert [s.result for s in done[:3]] == [2, 3, 2]
    assert done[3].result == [("a0", "{C2}"), ("a1", "{C2}"), ("a2", "{C1}"), ("a2", "{C2}")]
    assert empty.result == [], "a filter matching nothing is answered without a query"
    assert nothing is None and len(done) == 4, "an update that can match nothing is not sent"
    assert dict(Agent.objects.values_list("id", "roster_version")) == {"a0": 1, "a1": 0, "a2": 1}
    sent = [s for s in seen if not s.startswith(("SAVEPOINT", "RELEASE"))]
    assert len(sent) == (1 if connection.vendor == "postgresql" else 4)


def test_an_error_in_any_statement_fails_the_callers_transaction(rows):
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017,PT011 - the driver's error
        together.run(
            [
                together.update(Agent.objects.filter(id="a0"), roster_version=7),
                together.raw_select(("SELECT * FROM no_such_table", ())),
            ]
        )
    assert Agent.objects.get(pk="a0").roster_version == 0


def test_any_of_matches_what_in_matches_with_the_ids_as_one_parameter(rows):
    ids = ["a0", "a2", "nobody"]
    assert sorted(Agent.objects.filter(id__any_of=ids).values_list("id", flat=True)) == [
        "a0",
        "a2",
    ]
    # On a relation too (RosterEntry.agent), and empty is answered without a query.
    assert (
        RosterEntry.objects.filter(agent_id__any_of=ids, campaign_id__any_of=["{C1}"]).count() == 2
    )
    with statements() as seen:
        assert list(Agent.objects.filter(id__any_of=[])) == []
    assert seen == []
    sql, params = Agent.objects.filter(id__any_of=ids).query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and list(params) == [ids], "one array, whatever the number of ids"
    else:
        assert list(params) == ids


def test_insert_product_adds_each_combination_once_and_ignores_existing_rows(rows):
    kept = RosterEntry.objects.get(agent_id="a0", campaign_id="{C1}")
    with transaction.atomic(), statements() as seen:
        together.run(
            together.insert_product_ignoring_conflicts(
                RosterEntry,
                {"agent_id": ["a0", "a1"], "campaign_id": ["{C1}", "{C2}"]},
                {"source": "import", "since": kept.since},
            )
        )
    assert sorted(RosterEntry.objects.values_list("agent_id", "campaign_id", "source")) == [
        ("a0", "{C1}", "allocation"),  # there already: left as it was
        ("a0", "{C2}", "import"),
        ("a1", "{C1}", "allocation"),
        ("a1", "{C2}", "import"),
        ("a2", "{C1}", "allocation"),
    ]
    assert RosterEntry.objects.get(agent_id="a0", campaign_id="{C1}").pk == kept.pk
    if connection.vendor == "postgresql":
        assert len(seen) == 1, "one INSERT for every combination"
    assert together.insert_product_ignoring_conflicts(RosterEntry, {"agent_id": []}, {}) == []


@pytest.mark.django_db
def test_a_long_round_trip_is_split_once_then_taken_from_psycopgs_cache():
    # 60 parameters (psycopg caches a split query only up to 50, or 4,096 bytes): the same
    # round trip again must come from the cache, not be split again.
    if connection.vendor != "postgresql":
        pytest.skip("psycopg's client-side binding: PostgreSQL")
    from psycopg import _queries

    def run():
        done = together.run([together.Statement("SELECT %s", (i,), rows=True) for i in range(60)])
        return [s.result for s in done]

    assert run() == [[(i,)] for i in range(60)]
    hits = _queries._query2pg_client.cache_info().hits
    assert run() == [[(i,)] for i in range(60)]
    assert _queries._query2pg_client.cache_info().hits == hits + 1
