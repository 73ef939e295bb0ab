"""The JSON API over real HTTP, with the real worker, Redis and the simulator behind it."""

from __future__ import annotations

import requests

from dashboard.allocations.models import AllocationJob
from tests.dashboard.api.conftest import token_for
from tests.integration.conftest import pick_move, sim_moves, wait_for


def _session(user) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token_for(user)}"
    return session


def test_a_move_posted_to_the_api_succeeds_and_is_applied_once(
    live_server, directory, worker, supervisor, simulator
):
    agents, source, target = pick_move(directory)
    http = _session(supervisor)
    body = {"agent_ids": agents, "campaign_ids_in": [target], "campaign_ids_out": [source]}
    url = f"{live_server.url}/api/allocations"
    created = http.post(url, json=body, headers={"Idempotency-Key": "drop-1"}, timeout=10)
    assert created.status_code == 202, created.text
    job_url = live_server.url + created.json()["url"]

    def finished():
        job = http.get(job_url, timeout=10).json()
        return job if job["status"] in ("succeeded", "failed", "cancelled") else None

    job = wait_for(finished, what="the job to finish")
    assert job["status"] == "succeeded", job
    replay = http.post(url, json=body, headers={"Idempotency-Key": "drop-1"}, timeout=10)
    assert replay.status_code == 200
    assert replay.json()["id"] == job["id"]
    assert len([m for m in sim_moves(simulator) if m["agentIds"] == agents]) == 1
    agents_now = {a["id"]: a for a in http.get(f"{live_server.url}/api/agents", timeout=10).json()}
    assert target in agents_now[agents[0]]["campaign_ids"]
    assert source not in agents_now[agents[0]]["campaign_ids"]


def test_bad_api_input_is_refused_and_nothing_reaches_the_worker_or_icws(
    live_server, directory, worker, supervisor, simulator
):
    agents, _source, target = pick_move(directory)
    http = _session(supervisor)
    url = f"{live_server.url}/api/allocations"
    bad_bodies = [
        {"agent_ids": agents},
        {"agent_ids": agents, "campaign_ids_in": ["{NO-SUCH}"]},
        {"agent_ids": ["nobody"], "campaign_ids_in": [target]},
        {"agent_ids": agents, "campaign_ids_in": [target], "extra": 1},
        {"agent_ids": agents, "campaign_ids_in": [target], "campaign_ids_out": [target]},
        {"agent_ids": agents, "campaign_ids_in": [target], "expected_versions": {agents[0]: 99}},
    ]
    for body in bad_bodies:
        response = http.post(url, json=body, timeout=10)
        assert response.status_code in (400, 409), (body, response.text)
        assert response.json()["errors"], response.text
    not_json = http.post(url, data="{", headers={"Content-Type": "application/json"}, timeout=10)
    assert not_json.status_code == 400
    assert not AllocationJob.objects.exists()
    assert sim_moves(simulator) == []
