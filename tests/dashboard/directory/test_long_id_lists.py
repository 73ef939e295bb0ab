"""Reads named by thousands of agent ids (a 5,000-agent move's outcome, its audit row's names,
its ready-for-calls requests) give what ``__in`` gave, with the ids as one array parameter on
PostgreSQL: the statement's text and parameter count stay the same for any number of agents."""

from __future__ import annotations

import pytest
from django.db import connection

from dashboard.agentpage.models import ReadyForCalls
from dashboard.agentpage.services import ask_for_ready_for_calls
from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import Agent, Campaign, RosterEntry
from dashboard.directory.selectors import agent_names, roster_of
from tests.dashboard.conftest import user_with_role

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_too]


@pytest.fixture
def agents(db):
    c1 = Campaign.objects.create(id="{C1}", name="Renewals", state="on")
    c2 = Campaign.objects.create(id="{C2}", name="Winback", state="on")
    for i in range(3):
        agent = Agent.objects.create(id=f"a{i}", name=f"Agent {i}")
        RosterEntry.objects.create(agent=agent, campaign=c1)
    RosterEntry.objects.create(agent_id="a1", campaign=c2)
    return ["a0", "a1", "a2"]


@pytest.fixture
def sent():
    """(sql, params) of every statement run on the default connection inside the test."""
    seen: list[tuple[str, tuple]] = []

    def keep(run, sql, params, many, context):
        seen.append((sql, tuple(params or ())))
        return run(sql, params, many, context)

    with connection.execute_wrapper(keep):
        yield seen


def _one_array_on_postgresql(seen, ids) -> None:
    [(sql, params)] = seen
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and [list(p) for p in params if isinstance(p, list)] == [ids]
    else:
        assert [p for p in params if p in ids] == ids


def test_roster_of_many_agents(agents, sent):
    ids = [*agents, "nobody"]
    assert roster_of(ids) == {"a0": ["{C1}"], "a1": ["{C1}", "{C2}"], "a2": ["{C1}"], "nobody": []}
    _one_array_on_postgresql(sent, ids)


def test_agent_names_of_many_agents(agents, sent):
    ids = ["a2", "nobody", "a0"]
    assert agent_names(ids) == {"a0": "Agent 0", "a2": "Agent 2"}
    _one_array_on_postgresql(sent, ids)
    sent.clear()
    assert agent_names([]) == {} and sent == []  # nothing to ask


def test_ready_for_calls_requests_for_many_agents(agents, sent, django_user_model):
    user = user_with_role(django_user_model, "ana", "supervisor")
    job = AllocationJob.objects.create(
        requested_by=user, agent_ids=agents, campaign_ids_in=["{C2}"]
    )
    sent.clear()
    ids = [*agents, "nobody"]  # an agent the directory does not know gets no request
    ask_for_ready_for_calls(job, ids, None)
    _one_array_on_postgresql(sent, ids)
    assert sorted(ReadyForCalls.objects.values_list("agent_id", "job_id", "campaign_ids")) == [
        (a, job.pk, ["{C2}"]) for a in agents
    ]
    ask_for_ready_for_calls(job, ids, None)  # again: still one request per agent and job
    assert ReadyForCalls.objects.count() == 3
