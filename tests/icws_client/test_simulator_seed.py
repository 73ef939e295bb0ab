"""Simulator: the default seed, the generator, seed files and /sim/state."""

from __future__ import annotations

import json

import pytest
import requests

from icws_client.simulator import Simulator, default_seed, generate_seed, load_seed
from tests.conftest import SERVICE_USER


def test_default_seed_is_deterministic_and_realistic():
    seed = default_seed()
    assert seed == default_seed()
    names = {u["displayName"] for u in seed["users"]}
    assert {"Siobhán O'Neill", "José Álvarez", "Dana Morgan"} <= names
    assert any(not n.isascii() for n in names) and any("'" in n for n in names)
    groups = {wg["id"] for wg in seed["workgroups"]}
    assert {"Sales Outbound", "Renewals", "Collections", "Customer Care", "Spanish Line"} < groups
    assert "Supervisors" in groups
    assert len(seed["campaigns"]) == 8
    assert all(c["id"].startswith("{") and len(c["id"]) == 38 for c in seed["campaigns"])
    users = {u["id"]: u for u in seed["users"]}
    assert users["sup.morgan"]["password"] == "supervisor-demo"
    assert users["sup.morgan"]["workgroups"] == ["Supervisors"]
    assert users[SERVICE_USER]["workgroups"] == []
    agents = [u for u in seed["users"] if "Agent" in u["roles"]]
    assert 55 <= len(agents) <= 65
    assert all(1 <= len(a["workgroups"]) <= 2 for a in agents)
    presence = [a["status"] for a in agents]
    assert sum(p["loggedIn"] for p in presence) > len(agents) // 2
    assert any(p["onPhone"] for p in presence) and not all(p["loggedIn"] for p in presence)
    load_seed(seed)  # it passes its own checks


def test_default_state_has_varied_campaigns_and_membership(simulator):
    state = simulator.state()
    assert set(state) == {"campaigns", "agents", "membership"}
    states = [c["state"] for c in state["campaigns"]]
    assert states.count("on") >= 3
    assert {"off", "paused", "schedule-only", "completed"} <= set(states)
    assert all(set(c) == {"id", "name", "state"} for c in state["campaigns"])
    assert all(set(a) == {"id", "name", "workgroups"} for a in state["agents"])
    agent_ids = [a["id"] for a in state["agents"]]
    assert "sup.morgan" not in agent_ids and SERVICE_USER not in agent_ids
    assert set(state["membership"]) == set(agent_ids)
    sizes = [len(v) for v in state["membership"].values()]
    assert sizes.count(1) > len(sizes) // 2
    assert 0 in sizes
    assert requests.get(f"{simulator.base_url}/sim/state", timeout=5).json() == state


def test_generate_seed_has_the_same_shape_at_scale():
    seed = generate_seed(agents=500, campaigns=40, rng_seed=3)
    assert seed == generate_seed(agents=500, campaigns=40, rng_seed=3)
    assert seed != generate_seed(agents=500, campaigns=40, rng_seed=4)
    load_seed(seed)
    with Simulator(port=0, seed=seed) as sim:
        state = sim.state()
        assert len(state["agents"]) == 500
        assert len(state["campaigns"]) == 40
        assert sum(c["state"] == "on" for c in state["campaigns"]) >= 2
    with pytest.raises(ValueError, match="at least one"):
        generate_seed(agents=0)


def test_seed_files_are_loaded_and_checked(tmp_path):
    path = tmp_path / "seed.json"
    seed = default_seed()
    path.write_text(json.dumps(seed, ensure_ascii=False), encoding="utf-8")
    assert load_seed(path) == seed
    broken = dict(seed, campaigns=[dict(seed["campaigns"][0], workgroup="Nowhere")])
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(ValueError, match="Nowhere"):
        load_seed(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot read"):
        load_seed(path)
    with pytest.raises(ValueError, match="unknown campaign"):
        Simulator(seed=dict(seed, membership={"s.oneill": ["{NOPE}"]}))


def test_a_small_custom_seed_runs_and_reset_returns_to_it():
    seed = {
        "icServer": "lab",
        "workgroups": [{"id": "Team", "displayName": "Team"}],
        "users": [{"id": "ann", "displayName": "Ann", "workgroups": ["Team"], "roles": []}],
        "campaigns": [{"id": "{C1}", "name": "One", "workgroup": "Team", "status": [1]}],
        "membership": {},
    }
    with Simulator(port=0, seed=seed, apply_delay=0) as sim:
        assert sim.state() == {
            "campaigns": [{"id": "{C1}", "name": "One", "state": "on"}],
            "agents": [{"id": "ann", "name": "Ann", "workgroups": ["Team"]}],
            "membership": {"ann": []},
        }
        sim.app.world.membership["ann"].append("{C1}")
        sim.reset()
        assert sim.state()["membership"] == {"ann": []}
