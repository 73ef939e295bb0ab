"""GET /api/agents and /api/campaigns: the roster, filters, and a query count that stays flat."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.directory.models import Agent, Campaign, RosterEntry, Workgroup


def test_agents_carry_workgroups_presence_and_campaigns(api, mover, dir_small):
    Agent.objects.filter(id="a1").update(logged_in=True, on_phone=True, status_id="Available")
    Agent.objects.filter(id="a2").update(logged_in=True, status_id="Available")
    Agent.objects.filter(id="a3").update(logged_in=True, status_id="At Lunch")
    body = {a["id"]: a for a in api.as_user(mover).get("/api/agents").json()}
    assert set(body) == {"a1", "a2", "a3", "a4"}
    assert body["a1"]["campaign_ids"] == ["{C1}"]
    assert body["a1"]["workgroup_ids"] == ["Sales"]
    assert [body[a]["presence"] for a in ("a1", "a2", "a3", "a4")] == [
        "on-call",
        "available",
        "away",
        "offline",
    ]
    assert body["a4"]["campaign_ids"] == []
    assert body["a1"]["roster_version"] == 0


def test_agents_filter_by_workgroup_campaign_and_text(api, mover, dir_small):
    api.as_user(mover)
    assert [a["id"] for a in api.get("/api/agents", {"workgroup": "Care"}).json()] == ["a3", "a4"]
    assert [a["id"] for a in api.get("/api/agents", {"campaign": "{C1}"}).json()] == ["a1", "a2"]
    assert [a["id"] for a in api.get("/api/agents", {"q": "agent 2"}).json()] == ["a2"]
    assert api.get("/api/agents", {"q": "x" * 201}).status_code == 400


def test_inactive_agents_and_campaigns_are_not_listed(api, mover, dir_small):
    Agent.objects.filter(id="a2").update(active=False)
    Campaign.objects.filter(id="{C3}").update(active=False)
    api.as_user(mover)
    assert "a2" not in {a["id"] for a in api.get("/api/agents").json()}
    campaigns = {c["id"]: c for c in api.get("/api/campaigns").json()}
    assert set(campaigns) == {"{C1}", "{C2}"}
    assert campaigns["{C1}"]["agent_ids"] == ["a1"]


def test_campaigns_carry_state_and_roster(api, mover, dir_small):
    body = {c["id"]: c for c in api.as_user(mover).get("/api/campaigns").json()}
    assert body["{C1}"] == {
        "id": "{C1}",
        "name": "Renewals",
        "state": "on",
        "accepts_calls": True,
        "workgroup_id": "Sales",
        "headcount": 2,
        "agent_ids": ["a1", "a2"],
    }
    assert body["{C3}"]["accepts_calls"] is False
    assert body["{C2}"]["agent_ids"] == []


def _grow(n: int) -> None:
    group = Workgroup.objects.get(id="Sales")
    campaign = Campaign.objects.get(id="{C2}")
    agents = Agent.objects.bulk_create(Agent(id=f"x{i}", name=f"X {i}") for i in range(n))
    Agent.workgroups.through.objects.bulk_create(
        Agent.workgroups.through(agent_id=a.id, workgroup_id=group.id) for a in agents
    )
    RosterEntry.objects.bulk_create(RosterEntry(agent=a, campaign=campaign) for a in agents)


def test_query_count_does_not_grow_with_the_directory(api, mover, dir_small):
    api.as_user(mover).get("/api/agents")  # the token's first use writes last_used_at
    counts = []
    for grow_by in (0, 50):
        _grow(grow_by)
        with CaptureQueriesContext(connection) as agents_q:
            api.get("/api/agents")
        with CaptureQueriesContext(connection) as campaigns_q:
            api.get("/api/campaigns")
        counts.append((len(agents_q), len(campaigns_q)))
    assert counts[0] == counts[1], counts
