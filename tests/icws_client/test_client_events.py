"""IcwsClient: subscriptions and the queue read as server-sent events (icws_client/events.py)."""

from __future__ import annotations

import pytest
import requests

from icws_client import IcwsError
from icws_client.events import PING


def _first_messages(stream, n):
    messages = []
    for message in stream:
        if message is not PING:
            messages.append(message)
            if len(messages) == n:
                return messages
    return messages


def test_subscriptions_arrive_on_the_event_stream_snapshot_first(sim, icws):
    agents = [a["id"] for a in sim.state()["agents"][:3]]
    icws.subscribe_user_statuses(agents)
    icws.subscribe_sessions_users(agents)
    session_id, stream = icws.open_events(read_timeout=10)
    with stream:
        assert session_id == icws.connection.session_id
        statuses, sessions = _first_messages(stream, 2)
        assert statuses["isDelta"] is False and len(statuses["userStatusList"]) == 3
        assert sessions["__type"] == "urn:inin.com:session:sessionsMessage"
        body = {"userId": agents[0], "statusId": "At Lunch"}
        requests.post(f"{sim.base_url}/sim/user-status", json=body, timeout=5)
        (delta,) = _first_messages(stream, 1)
        assert delta["isDelta"] is True


def test_the_stream_ends_with_the_connection_state_message_then_a_typed_error(sim, icws):
    _, stream = icws.open_events(read_timeout=10)
    with stream:
        sim.set_faults(expire_sessions=True)
        (message,) = _first_messages(stream, 1)
        assert message["__type"] == "urn:inin.com:connection:connectionStateChangeMessage"
        with pytest.raises(IcwsError):
            _first_messages(stream, 1)


def test_opening_a_stream_on_an_expired_session_raises_401(sim, icws):
    icws.connect()
    sim.set_faults(expire_sessions=True)
    sim.app.sessions.take_ended(icws.connection.session_id)  # its one last read used up
    with pytest.raises(IcwsError) as raised:
        icws.open_events(read_timeout=5)
    assert raised.value.status == 401
