"""The ICWS listener against the real simulator over HTTP (a thread with a stop event)."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from dashboard.directory.models import Agent
from dashboard.presence.listener import Listener
from dashboard.presence.selectors import listener_health
from icws_client import IcwsClient
from icws_client.simulator import Simulator
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

pytestmark = pytest.mark.django_db(transaction=True)


def _wait(predicate, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} not met within {timeout} s")


def _agents_from(simulator, n=4):
    agents = simulator.state()["agents"][:n]
    for a in agents:
        Agent.objects.create(id=a["id"], name=a["name"])
    return [a["id"] for a in agents]


class Running:
    def __init__(self, simulator):
        self.stop = threading.Event()
        self.listener = Listener(
            lambda: IcwsClient(
                simulator.base_url, SERVICE_USER, SERVICE_PASSWORD, timeout=2.0, backoff_base=0.01
            ),
            self.stop,
            backoff_base=0.05,
            backoff_cap=0.2,
        )
        self.thread = threading.Thread(target=self.listener.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)  # a logout (DELETE connection) may take the client timeout
        if self.thread.is_alive():
            import sys
            import traceback

            stack = "".join(traceback.format_stack(sys._current_frames()[self.thread.ident]))
            raise AssertionError(f"the listener did not stop:\n{stack}")


def _status(simulator, user_id, status_id, **extra):
    body = {"userId": user_id, "statusId": status_id, **extra}
    r = requests.post(f"{simulator.base_url}/sim/user-status", json=body, timeout=5)
    assert r.status_code == 200, r.text


def _client(simulator, user_id, connected):
    body = {"userId": user_id, "connected": connected}
    requests.post(f"{simulator.base_url}/sim/client", json=body, timeout=5).raise_for_status()


def _agent(agent_id):
    return Agent.objects.get(id=agent_id)


@pytest.mark.parametrize("messaging_version", [2, 1], ids=["sse", "short-polling"])
def test_presence_and_live_client_reach_the_database(settings, messaging_version):
    settings.LISTENER_POLL_SECONDS = 0.1
    with Simulator(messaging_version=messaging_version, **_sim_kwargs()) as simulator:
        agent, *_ = _agents_from(simulator)
        with Running(simulator):
            _wait(lambda: _agent(agent).presence_updated_at is not None, what="snapshot")
            _wait(lambda: listener_health().ok, what="listener live")
            health = listener_health()
            assert health.transport == ("sse" if messaging_version >= 2 else "poll")
            _status(simulator, agent, "At Lunch", onPhone=True)
            _wait(lambda: _agent(agent).status_id == "At Lunch", what="status delta")
            assert _agent(agent).on_phone is True
            _client(simulator, agent, False)
            _wait(lambda: _agent(agent).has_live_client is False, what="client gone")
            _client(simulator, agent, True)
            _wait(lambda: _agent(agent).has_live_client is True, what="client back")
    assert listener_health().status == "stale"  # stopped


def _sim_kwargs():
    return {"apply_delay": 0.02, "service_user": SERVICE_USER, "service_password": SERVICE_PASSWORD}


def test_snapshot_marks_agents_without_a_client(sim):
    agents = _agents_from(sim, 6)
    with_client = set(sim.app.clients.snapshot())
    with Running(sim):
        _wait(lambda: all(_agent(a).has_live_client is not None for a in agents), what="clients")
    for a in agents:
        assert _agent(a).has_live_client is (a in with_client)


def test_reconnects_and_resubscribes_after_the_sessions_expire(sim):
    agent, *_ = _agents_from(sim)
    with Running(sim):
        _wait(lambda: listener_health().ok, what="listener live")
        sim.set_faults(expire_sessions=True)
        _wait(lambda: listener_health().reconnects >= 1, what="a reconnect")
        _wait(lambda: listener_health().ok, what="live again")
        _status(sim, agent, "Away from desk")
        _wait(lambda: _agent(agent).status_id == "Away from desk", what="delta after reconnect")


def test_resubscribes_when_the_agent_set_changes(sim, monkeypatch):
    monkeypatch.setattr("dashboard.presence.listener.AGENTS_CHECK_SECONDS", 0.1)
    _agents_from(sim, 2)
    newcomer = sim.state()["agents"][5]
    with Running(sim):
        _wait(lambda: listener_health().ok, what="listener live")
        Agent.objects.create(id=newcomer["id"], name=newcomer["name"])
        _wait(lambda: _agent(newcomer["id"]).presence_updated_at is not None, what="newcomer")


def test_simulator_gone_marks_presence_stale_and_says_why(sim):
    _agents_from(sim, 1)
    with Running(sim):
        _wait(lambda: listener_health().ok, what="listener live")
        sim.stop()
        _wait(lambda: listener_health().status == "stale", what="stale")
        assert listener_health().last_error
        assert listener_health().since is not None


def test_never_run_listener_is_stale(db):
    health = listener_health()
    assert health.status == "never" and health.presence_stale
