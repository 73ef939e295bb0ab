"""Simulator: server-sent events, sessions-users subscriptions, /sim/client, connection loss."""

from __future__ import annotations

import json
import time

import requests

from icws_client.simulator import Simulator
from tests.icws_client.conftest import open_session

MESSAGES = "/messaging/messages"
SESSIONS = "/messaging/subscriptions/session/sessions-users"
STATUSES = "/messaging/subscriptions/status/user-statuses"
SESSIONS_MESSAGE = "urn:inin.com:session:sessionsMessage"
STATE_MESSAGE = "urn:inin.com:connection:connectionStateChangeMessage"


def _agents(simulator, n):
    return [a["id"] for a in simulator.state()["agents"][:n]]


def _client(simulator, user_id, connected):
    body = {"userId": user_id, "connected": connected}
    return requests.post(f"{simulator.base_url}/sim/client", json=body, timeout=5)


def _events(response, count, timeout=5.0):
    """The first ``count`` ``data`` events of an SSE response, decoded."""
    events, deadline = [], time.monotonic() + timeout
    for line in response.iter_lines(chunk_size=1, decode_unicode=True):
        if line.startswith("data: "):
            events.append(json.loads(line[6:]))
            if len(events) == count:
                return events
        assert time.monotonic() < deadline, f"only {events} before the deadline"
    return events


def _stream(icws_session):
    return requests.get(
        icws_session.url(MESSAGES),
        headers={**icws_session.headers, "Accept": "text/event-stream"},
        stream=True,
        timeout=10,
    )


def test_sessions_users_snapshot_then_deltas_from_sim_client(simulator, icws_session):
    agent = _agents(simulator, 1)[0]
    _client(simulator, agent, False)
    assert icws_session.put(SESSIONS, json={"userIds": [agent]}).status_code == 204
    (snapshot,) = icws_session.get(MESSAGES).json()
    assert snapshot == {
        "__type": SESSIONS_MESSAGE,
        "isDelta": False,
        "sessionsAdded": [],
        "sessionsRemoved": [],
    }
    assert _client(simulator, agent, True).json()["changed"] is True
    assert _client(simulator, agent, True).json()["changed"] is False  # already connected
    (added,) = icws_session.get(MESSAGES).json()
    assert added["isDelta"] is True
    (entry,) = added["sessionsAdded"]
    assert entry["userId"]["id"] == agent
    assert {"applicationName", "machineName", "stationId", "reason"} <= set(entry)
    _client(simulator, agent, False)
    (removed,) = icws_session.get(MESSAGES).json()
    assert removed["sessionsRemoved"][0]["userId"]["id"] == agent


def test_sessions_users_snapshot_lists_clients_logged_in_at_start(simulator, icws_session):
    agents = _agents(simulator, 5)
    logged_in = {a for a in agents if simulator.app.world.user_status(a)["loggedIn"]}
    icws_session.put(SESSIONS, json={"userIds": agents})
    (snapshot,) = icws_session.get(MESSAGES).json()
    assert {s["userId"]["id"] for s in snapshot["sessionsAdded"]} == logged_in


def test_sessions_users_refuses_unknown_users_and_bad_bodies(icws_session):
    assert icws_session.put(SESSIONS, json={"userIds": ["nobody-here"]}).status_code == 404
    assert icws_session.put(SESSIONS, json={"userIds": []}).status_code == 400
    assert icws_session.put(SESSIONS, json={"users": ["x"]}).status_code == 400
    assert icws_session.get(MESSAGES).json() == []


def test_sse_streams_each_message_as_an_event(simulator, icws_session):
    agent = _agents(simulator, 1)[0]
    icws_session.put(STATUSES, json={"userIds": [agent]})
    with _stream(icws_session) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        (snapshot,) = _events(response, 1)
        assert snapshot["isDelta"] is False
        requests.post(
            f"{simulator.base_url}/sim/user-status",
            json={"userId": agent, "statusId": "At Lunch"},
            timeout=5,
        )
        (delta,) = _events(response, 1)
        assert delta["isDelta"] is True
        assert delta["userStatusList"][0]["statusId"] == "At Lunch"


def test_sse_needs_messaging_2_else_short_polling_answers():
    with Simulator(messaging_version=1) as sim:
        session = open_session(sim.base_url)
        r = session.get(MESSAGES, headers={"Accept": "text/event-stream"})
        assert r.headers["Content-Type"].startswith("application/vnd.inin.icws+json")
        assert r.json() == []


def test_expired_sessions_announce_the_loss_to_a_poller_once_then_401(simulator, icws_session):
    simulator.set_faults(expire_sessions=True)
    (message,) = icws_session.get(MESSAGES).json()
    assert message["__type"] == STATE_MESSAGE
    assert message["shouldReconnect"] is True
    assert message["newConnectionState"] != message["previousConnectionState"]
    assert icws_session.get(MESSAGES).status_code == 401


def test_expired_sessions_end_an_open_event_stream_after_the_message(simulator, icws_session):
    with _stream(icws_session) as response:
        simulator.set_faults(expire_sessions=True)
        (message,) = _events(response, 1)
        assert message["__type"] == STATE_MESSAGE
        assert [ln for ln in response.iter_lines(chunk_size=1) if ln] == []  # it ended
    assert icws_session.get("/connection").status_code == 401


def test_other_requests_of_an_expired_session_get_401_at_once(simulator, icws_session):
    simulator.set_faults(expire_sessions=True)
    assert icws_session.put(SESSIONS, json={"userIds": ["x"]}).status_code == 401
