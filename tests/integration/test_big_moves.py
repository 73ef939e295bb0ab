"""Moves of more than one batch carrying roster versions, through the API and the real worker.

Every board move carries the versions the supervisor saw. They used to be checked against the
current batch's agents only, so any move of more than ALLOCATION_BATCH_SIZE (100) agents failed
as a false "someone else moved these agents" conflict: 100 agents succeeded, 101 failed.
"""

from __future__ import annotations

import pytest
import requests

from dashboard.directory.models import Agent, RosterEntry
from tests.dashboard.api.conftest import token_for
from tests.integration.conftest import generated_world, sim_moves, wait_for


@pytest.fixture
def simulator():
    """A world big enough for a 5,000-agent move (overrides the default-seed simulator)."""
    yield from generated_world(agents=5000, campaigns=8, apply_delay=0.01)


@pytest.mark.parametrize("count", [101, 5000])
def test_a_move_of_many_batches_with_versions_succeeds(
    count, live_server, directory, worker, supervisor, simulator, settings
):
    settings.ALLOCATION_MAX_ATTEMPTS = 3
    target = next(c["id"] for c in directory["campaigns"] if c["state"] == "on")
    agents = sorted(Agent.objects.values_list("id", flat=True))[:count]
    assert len(agents) == count, "the generated seed has 5,000 agents"
    versions = dict(Agent.objects.filter(id__in=agents).values_list("id", "roster_version"))
    http = requests.Session()
    http.headers["Authorization"] = f"Token {token_for(supervisor)}"
    body = {
        "agent_ids": agents,
        "campaign_ids_in": [target],
        "reason": f"{count} agents in one move",
        "expected_versions": versions,
    }
    created = http.post(f"{live_server.url}/api/allocations", json=body, timeout=60)
    assert created.status_code == 202, created.text
    job_url = live_server.url + created.json()["url"]

    def finished():
        job = http.get(job_url, timeout=30).json()
        return job if job["status"] in ("succeeded", "failed", "cancelled") else None

    job = wait_for(finished, timeout=180, interval=0.5, what=f"the {count}-agent job")
    assert job["status"] == "succeeded", (job["error_kind"], job["error_message"])
    assert len(job["batches"]) == -(-count // 100)
    assert {b["status"] for b in job["batches"]} == {"accepted"}
    sent = [a for m in sim_moves(simulator) for a in m["agentIds"]]
    assert sorted(sent) == agents, "every agent sent once"
    assert RosterEntry.objects.filter(agent_id__in=agents, campaign_id=target).count() == count
