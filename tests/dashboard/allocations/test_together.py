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
