"""Simulator: allocate-agents (validation, 202 then applied later, licence) and ready-for-calls."""

from __future__ import annotations

import copy
import time

import pytest
import requests

from icws_client.simulator import Simulator, default_seed
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

from .conftest import open_session

ALLOCATE = "/dialer/allocate-agents"
READY = "/dialer/ready-for-calls"
LICENCE_TEXT = (
    "Neither the agent nor the station the agent is logged in to has a Dialer Add-on License "
    "available."
)


def _pick(sim):
    """An agent in a running campaign, that campaign, and another running campaign."""
    state = sim.state()
    running = [c["id"] for c in state["campaigns"] if c["state"] == "on"]
    source, target = running[0], running[1]
    agent = next(a for a, cs in state["membership"].items() if source in cs and target not in cs)
    return agent, source, target


AGENT, CAMPAIGN = "<agent>", "<campaign>"

INVALID_BODIES = [
    # (body, property the answer must name)
    ([], "allocateAgentsParameters"),
    ("agents", "allocateAgentsParameters"),
    ({"campaignIdsIn": [CAMPAIGN]}, "agentIds"),
    ({"agentIds": [], "campaignIdsIn": [CAMPAIGN]}, "agentIds"),
    ({"agentIds": AGENT, "campaignIdsIn": [CAMPAIGN]}, "agentIds"),
    ({"agentIds": [5], "campaignIdsIn": [CAMPAIGN]}, "agentIds"),
    ({"agentIds": [""], "campaignIdsIn": [CAMPAIGN]}, "agentIds"),
    ({"agentIds": [AGENT, AGENT], "campaignIdsIn": [CAMPAIGN]}, "agentIds"),
    ({"agentIds": ["no.such.agent"], "campaignIdsIn": [CAMPAIGN]}, "no.such.agent"),
    ({"agentIds": [AGENT]}, "campaignIdsIn"),
    ({"agentIds": [AGENT], "campaignIdsIn": None, "campaignIdsOut": None}, "campaignIdsOut"),
    ({"agentIds": [AGENT], "campaignIdsIn": [], "campaignIdsOut": []}, "campaignIdsOut"),
    ({"agentIds": [AGENT], "campaignIdsIn": []}, "campaignIdsIn"),
    ({"agentIds": [AGENT], "campaignIdsIn": [7]}, "campaignIdsIn"),
    ({"agentIds": [AGENT], "campaignIdsOut": "x"}, "campaignIdsOut"),
    ({"agentIds": [AGENT], "campaignIdsIn": ["{NO-SUCH}"]}, "{NO-SUCH}"),
    ({"agentIds": [AGENT], "campaignIdsOut": ["{NO-SUCH}"]}, "campaignIdsOut"),
    ({"agentIds": [AGENT], "campaignIdsIn": [CAMPAIGN, CAMPAIGN]}, "campaignIdsIn"),
    ({"agentIds": [AGENT], "campaignIdsIn": [CAMPAIGN], "campaignIdsOut": [CAMPAIGN]}, "both"),
    ({"agentIds": [AGENT], "campaignIdsIn": [CAMPAIGN], "priority": 1}, "priority"),
    ({"__type": "urn:inin.com:dialer:other", "agentIds": [AGENT], "campaignIdsIn": [CAMPAIGN]},
     "__type"),
]  # fmt: skip


def _fill(value, agent, campaign):
    if value == AGENT:
        return agent
    if value == CAMPAIGN:
        return campaign
    if isinstance(value, list):
        return [_fill(v, agent, campaign) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, agent, campaign) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("body", "named"), INVALID_BODIES)
def test_every_bad_allocation_is_400_naming_the_property(simulator, icws_session, body, named):
    agent, _, target = _pick(simulator)
    before = simulator.state()
    r = icws_session.post(ALLOCATE, json=_fill(body, agent, target))
    assert r.status_code == 400, r.text
    error = r.json()
    assert named in error["message"]
    if "propertyName" in error:
        assert error["propertyName"] in error["message"]
    simulator.wait_idle()
    assert simulator.moves() == []
    assert simulator.state() == before


@pytest.mark.parametrize(
    "raw", [b"{not json", b"", b'{"agentIds": ["a"],}', b"\xff\xfe", b"null", b"[1, 2]"]
)
def test_unparseable_allocation_bodies_are_400(icws_session, raw):
    r = icws_session.post(ALLOCATE, data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["message"]


def test_accepted_move_is_applied_after_the_delay():
    with Simulator(
        port=0, apply_delay=0.4, service_user=SERVICE_USER, service_password=SERVICE_PASSWORD
    ) as sim:
        session = open_session(sim.base_url)
        agent, source, target = _pick(sim)
        started = time.monotonic()
        r = session.post(
            ALLOCATE,
            json={"agentIds": [agent], "campaignIdsIn": [target], "campaignIdsOut": [source]},
            headers={"Content-Type": "application/vnd.inin.icws+JSON;charset=utf-8"},
        )
        assert r.status_code == 202
        assert r.content == b""
        assert source in sim.state()["membership"][agent], "not applied yet"
        assert sim.moves() == []
        while (
            target
            not in requests.get(f"{sim.base_url}/sim/state", timeout=5).json()["membership"][agent]
        ):
            assert time.monotonic() - started < 3, "the move was never applied"
            time.sleep(0.05)
        assert time.monotonic() - started >= 0.35
        membership = sim.state()["membership"][agent]
        assert source not in membership and membership.count(target) == 1
        (move,) = requests.get(f"{sim.base_url}/sim/moves", timeout=5).json()
        assert move["seq"] == 1
        assert move["agentIds"] == [agent]
        assert move["campaignIdsIn"] == [target] and move["campaignIdsOut"] == [source]
        assert move["userId"] == SERVICE_USER
        assert move["appliedAt"] >= move["acceptedAt"]


def test_typed_body_and_out_only_moves_are_accepted(simulator, icws_session):
    agent, source, _ = _pick(simulator)
    body = {
        "__type": "urn:inin.com:dialer:allocateAgentsParameters",
        "agentIds": [agent],
        "campaignIdsOut": [source],
    }
    assert icws_session.post(ALLOCATE, json=body).status_code == 202
    simulator.wait_idle()
    assert source not in simulator.state()["membership"][agent]


def test_moving_in_twice_does_not_duplicate(simulator, icws_session):
    agent, source, _ = _pick(simulator)
    for _ in range(2):
        assert (
            icws_session.post(
                ALLOCATE, json={"agentIds": [agent], "campaignIdsIn": [source]}
            ).status_code
            == 202
        )
    simulator.wait_idle()
    assert simulator.state()["membership"][agent].count(source) == 1
    assert len(simulator.moves()) == 2


def test_no_licence_is_403_with_the_documented_wording(simulator, icws_session):
    agent, _, target = _pick(simulator)
    simulator.set_faults(licence=False)
    r = icws_session.post(ALLOCATE, json={"agentIds": [agent], "campaignIdsIn": [target]})
    assert r.status_code == 403
    assert r.json()["message"] == LICENCE_TEXT
    assert "errorId" not in r.json()  # none on record for this 403 (REF 10)
    assert icws_session.post(READY).status_code == 403
    simulator.wait_idle()
    assert simulator.moves() == []
    simulator.set_faults(licence=True)
    assert icws_session.post(ALLOCATE, json={"agentIds": [agent], "campaignIdsIn": [target]}).ok


def test_old_dialer_version_refuses_allocate_agents():
    with Simulator(
        port=0, dialer_version=6, service_user=SERVICE_USER, service_password=SERVICE_PASSWORD
    ) as sim:
        session = open_session(sim.base_url)
        agent, _, target = _pick(sim)
        r = session.post(ALLOCATE, json={"agentIds": [agent], "campaignIdsIn": [target]})
        assert r.status_code == 400
        assert r.json()["errorId"] == "error.request.unsupported"
        assert "dialer 7" in r.json()["message"]


def test_reset_drops_moves_not_yet_applied():
    with Simulator(
        port=0, apply_delay=0.3, service_user=SERVICE_USER, service_password=SERVICE_PASSWORD
    ) as sim:
        before = sim.state()
        session = open_session(sim.base_url)
        agent, _, target = _pick(sim)
        assert session.post(ALLOCATE, json={"agentIds": [agent], "campaignIdsIn": [target]}).ok
        with pytest.raises(TimeoutError):
            sim.wait_idle(timeout=0.05)
        assert requests.post(f"{sim.base_url}/sim/reset", timeout=5).status_code == 204
        sim.wait_idle(timeout=1)
        time.sleep(0.4)
        assert sim.state() == before
        assert sim.moves() == []
        assert session.get("/connection").status_code == 401, "reset ends sessions"


def test_agents_with_sessions_get_auto_login_and_logout_messages():
    seed = copy.deepcopy(default_seed())
    agent_user = seed["users"][0]
    agent_user["password"] = "agent-pw"
    with Simulator(
        port=0,
        seed=seed,
        apply_delay=0.01,
        service_user=SERVICE_USER,
        service_password=SERVICE_PASSWORD,
    ) as sim:
        agent_session = open_session(sim.base_url, agent_user["id"], "agent-pw")
        bystander = open_session(sim.base_url)
        supervisor = open_session(sim.base_url, "sup.morgan", "supervisor-demo")
        running = [c["id"] for c in sim.state()["campaigns"] if c["state"] == "on"]
        current = sim.state()["membership"][agent_user["id"]]
        target = next(c for c in running if c not in current)
        body = {"agentIds": [agent_user["id"]], "campaignIdsIn": [target]}
        if current:
            body["campaignIdsOut"] = current
        assert supervisor.post(ALLOCATE, json=body).status_code == 202
        sim.wait_idle()
        messages = agent_session.get("/messaging/messages").json()
        logins = [m for m in messages if m["__type"] == "urn:inin.com:dialer:autoLoginMessage"]
        assert logins == [
            {
                "__type": "urn:inin.com:dialer:autoLoginMessage",
                "isDelta": False,
                "campaignId": target,
                "initiatorName": "Dana Morgan",
            }
        ]
        logouts = [m for m in messages if m["__type"] == "urn:inin.com:dialer:autoLogoutMessage"]
        assert [m["campaignIds"] for m in logouts] == ([current] if current else [])
        assert bystander.get("/messaging/messages").json() == []


def test_ready_for_calls(simulator, icws_session):
    campaigns = [c["id"] for c in simulator.state()["campaigns"]]
    # Refused without a Dialer log-in (REF 10), after the body's own checks.
    refused = icws_session.post(READY)
    assert refused.status_code == 400 and "errorId" not in refused.json()
    assert refused.json()["message"] == "The agent is not logged in to Dialer."
    requests.post(
        f"{simulator.base_url}/sim/dialer-login", json={"userId": SERVICE_USER}, timeout=5
    ).raise_for_status()
    r = icws_session.post(READY)
    assert r.status_code == 200
    assert r.content == b""
    assert icws_session.post(READY, json={}).status_code == 200
    assert icws_session.post(READY, json={"campaignIds": campaigns[:2]}).status_code == 200
    empty = icws_session.post(READY, json={"campaignIds": []})
    assert empty.status_code == 400 and "campaignIds" in empty.json()["message"]
    unknown = icws_session.post(READY, json={"campaignIds": ["{NOPE}"]})
    assert unknown.status_code == 400 and "{NOPE}" in unknown.json()["message"]
    extra = icws_session.post(READY, json={"campaignIds": campaigns[:1], "eager": True})
    assert extra.status_code == 400 and extra.json()["propertyName"] == "eager"
