"""Simulator: injected statuses, rate, latency, 503 at connect, session expiry, down."""

from __future__ import annotations

import time

import pytest
import requests

from .conftest import connect, open_session

STATUS_MESSAGES = "/status/status-messages"


def _faults(simulator, **body):
    return requests.post(f"{simulator.base_url}/sim/faults", json=body, timeout=5)


def test_status_for_the_next_k_calls_then_normal(simulator, icws_session):
    r = _faults(simulator, status=500, count=2, paths="status-messages")
    assert r.status_code == 200
    assert r.json()["status"] == 500 and r.json()["count"] == 2
    for _ in range(2):
        failed = icws_session.get(STATUS_MESSAGES)
        assert failed.status_code == 500
        assert failed.json()["errorCode"] == -2147467259
        assert failed.json()["message"]
    assert icws_session.get(STATUS_MESSAGES).status_code == 200
    current = requests.get(f"{simulator.base_url}/sim/faults", timeout=5).json()
    assert current["status"] is None and current["count"] is None


def test_fault_body_can_be_chosen(simulator, icws_session):
    simulator.set_faults(status=409, count=1, error_id="error.custom", message="Dialer busy")
    r = icws_session.get("/connection")
    assert r.status_code == 409
    assert r.json() == {"errorId": "error.custom", "message": "Dialer busy"}


def test_injected_401_looks_like_an_unknown_session_but_keeps_it(icws_session, simulator):
    simulator.set_faults(status=401, count=1)
    r = icws_session.get("/connection")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith('ICWS realm="ICWS"')
    assert r.json()["errorCode"] == 1
    assert icws_session.get("/connection").status_code == 200


def test_default_paths_are_session_requests_only(simulator, icws_session):
    simulator.set_faults(status=503)
    assert icws_session.get(STATUS_MESSAGES).status_code == 503
    assert icws_session.get("/configuration/users").status_code == 503
    assert connect(simulator.base_url).status_code == 201
    assert requests.get(f"{simulator.base_url}/icws/connection/features", timeout=5).ok
    assert requests.get(f"{simulator.base_url}/sim/state", timeout=5).ok
    requests.delete(f"{simulator.base_url}/sim/faults", timeout=5)
    assert icws_session.get(STATUS_MESSAGES).status_code == 200


def test_paths_may_be_a_list(simulator, icws_session):
    simulator.set_faults(status=502, paths=["status-messages", "configuration/workgroups"])
    assert icws_session.get(STATUS_MESSAGES).status_code == 502
    assert icws_session.get("/configuration/workgroups").status_code == 502
    assert icws_session.get("/configuration/users").status_code == 200


def test_a_faulted_allocation_has_no_effect(simulator, icws_session):
    agent = simulator.state()["agents"][0]["id"]
    campaign = simulator.state()["campaigns"][0]["id"]
    simulator.set_faults(status=500, count=1, paths="allocate-agents")
    body = {"agentIds": [agent], "campaignIdsIn": [campaign]}
    assert icws_session.post("/dialer/allocate-agents", json=body).status_code == 500
    simulator.wait_idle()
    assert simulator.moves() == []
    assert icws_session.post("/dialer/allocate-agents", json=body).status_code == 202


def test_rate(simulator, icws_session):
    simulator.set_faults(status=500, rate=0)
    assert all(icws_session.get(STATUS_MESSAGES).ok for _ in range(10))
    simulator.set_faults(rate=1)
    assert all(icws_session.get(STATUS_MESSAGES).status_code == 500 for _ in range(10))
    simulator.set_faults(rate=0.5)
    failures = sum(icws_session.get(STATUS_MESSAGES).status_code == 500 for _ in range(40))
    assert 0 < failures < 40


def test_rate_with_count_bounds_the_failures(simulator, icws_session):
    simulator.set_faults(status=500, rate=1, count=3)
    codes = [icws_session.get(STATUS_MESSAGES).status_code for _ in range(5)]
    assert codes == [500, 500, 500, 200, 200]


def test_latency(simulator, icws_session):
    simulator.set_faults(latency_ms=300, count=1, paths="status-messages")
    started = time.monotonic()
    assert icws_session.get("/connection").ok
    assert time.monotonic() - started < 0.25, "other paths are not delayed"
    started = time.monotonic()
    assert icws_session.get(STATUS_MESSAGES).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert icws_session.get(STATUS_MESSAGES).ok
    assert time.monotonic() - started < 0.25, "count=1: only the first call is slow"


def test_latency_makes_a_short_client_timeout_fire(simulator, icws_session):
    simulator.set_faults(latency_ms=800, paths="status-messages")
    with pytest.raises(requests.Timeout):
        requests.get(icws_session.url(STATUS_MESSAGES), headers=icws_session.headers, timeout=0.2)


def test_connect_503_names_alternate_hosts_and_the_alternate_accepts(simulator):
    port = simulator.port
    simulator.set_faults(
        connect_503={"count": None, "hosts": ["127.0.0.1"], "alternate_hosts": ["localhost"]}
    )
    for _ in range(2):
        refused = connect(f"http://127.0.0.1:{port}")
        assert refused.status_code == 503
        assert refused.json()["errorId"] == "error.server.notAcceptingConnections"
        assert refused.json()["alternateHostList"] == ["localhost"]
        assert refused.json()["message"]
    accepted = connect(f"http://localhost:{port}")
    assert accepted.status_code == 201
    assert accepted.json()["alternateHostList"] == ["localhost"]


def test_connect_503_count(simulator):
    simulator.set_faults(connect_503={"count": 1, "alternate_hosts": ["cic2"]})
    assert connect(simulator.base_url).status_code == 503
    assert connect(simulator.base_url).status_code == 201
    assert requests.get(f"{simulator.base_url}/sim/faults", timeout=5).json()["connect_503"] is None


def test_expire_sessions_ends_every_session(simulator):
    a, b = open_session(simulator.base_url), open_session(simulator.base_url)
    assert _faults(simulator, expire_sessions=True).status_code == 200
    for session in (a, b):
        r = session.get("/connection")
        assert r.status_code == 401
        assert r.json()["errorCode"] == 1
    assert open_session(simulator.base_url).get("/connection").ok


def test_down_drops_icws_connections_but_sim_stays_up(simulator, icws_session):
    simulator.set_faults(down=True)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{simulator.base_url}/icws/connection/features", timeout=5)
    with pytest.raises(requests.ConnectionError):
        icws_session.get(STATUS_MESSAGES)
    assert requests.get(f"{simulator.base_url}/sim/state", timeout=5).ok
    _faults(simulator, down=False)
    assert icws_session.get(STATUS_MESSAGES).ok


def test_licence_fault_shows_in_get_and_delete_restores(simulator):
    simulator.set_faults(licence=False, latency_ms=10)
    current = requests.get(f"{simulator.base_url}/sim/faults", timeout=5).json()
    assert current["licence"] is False and current["latency_ms"] == 10
    requests.delete(f"{simulator.base_url}/sim/faults", timeout=5)
    current = requests.get(f"{simulator.base_url}/sim/faults", timeout=5).json()
    assert current["licence"] is True and current["latency_ms"] == 0


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"status": 200}, "status"),
        ({"status": "500"}, "status"),
        ({"count": -1}, "count"),
        ({"rate": 2}, "rate"),
        ({"latency_ms": -5}, "latency_ms"),
        ({"paths": 5}, "paths"),
        ({"licence": "no"}, "licence"),
        ({"connect_503": {"count": 0}}, "connect_503.count"),
        ({"connect_503": {"hostz": []}}, "hostz"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_fault_settings_are_400_naming_the_field(simulator, body, named):
    r = _faults(simulator, **body)
    assert r.status_code == 400
    assert named in r.json()["message"]
    with pytest.raises(ValueError, match=named.split(".")[0]):
        simulator.set_faults(**body)


def test_sim_calls_count_requests_by_template_and_status(simulator, icws_session):
    simulator.set_faults(status=500, count=1, paths="status-messages")
    icws_session.get(STATUS_MESSAGES)
    icws_session.get(STATUS_MESSAGES)
    calls = requests.get(f"{simulator.base_url}/sim/calls", timeout=5).json()
    rows = {(c["method"], c["path"], c["status"]): c["count"] for c in calls}
    template = "/icws/{sessionId}/status/status-messages"
    assert rows[("GET", template, 500)] == 1
    assert rows[("GET", template, 200)] == 1
    assert rows[("POST", "/icws/connection", 201)] == 1
    assert not any(c["path"].startswith("/sim") for c in calls)
    assert requests.delete(f"{simulator.base_url}/sim/calls", timeout=5).status_code == 204
    assert requests.get(f"{simulator.base_url}/sim/calls", timeout=5).json() == []
