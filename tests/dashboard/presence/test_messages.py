"""The listener's verdict per message kind (one seam: _handle_all, no ICWS needed)."""

from __future__ import annotations

import pytest

from dashboard.directory.models import Agent
from dashboard.presence.listener import Listener, SessionEnded

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    for i in (1, 2, 3):
        Agent.objects.create(id=f"a{i}", name=f"Agent {i}")
    item = Listener(lambda: None)
    item._agents = frozenset({"a1", "a2", "a3"})
    return item


def _entry(user_id):
    return {"userId": {"id": user_id, "displayName": user_id}, "applicationName": "x"}


def _clients():
    return dict(Agent.objects.values_list("id", "has_live_client"))


def test_a_sessions_snapshot_clears_everyone_it_does_not_list(listener):
    message = {
        "__type": "urn:inin.com:session:sessionsMessage",
        "isDelta": False,
        "sessionsAdded": [_entry("a2")],
        "sessionsRemoved": [],
    }
    listener._handle_all([message])
    assert _clients() == {"a1": False, "a2": True, "a3": False}


def test_deltas_in_one_batch_apply_in_order(listener):
    added = {"__type": "urn:inin.com:session:sessionsMessage", "isDelta": True}
    listener._handle_all(
        [
            {**added, "sessionsAdded": [_entry("a1")], "sessionsRemoved": []},
            {**added, "sessionsAdded": [], "sessionsRemoved": [_entry("a1")]},
            {**added, "sessionsAdded": [_entry("a3")], "sessionsRemoved": []},
        ]
    )
    assert _clients() == {"a1": False, "a2": None, "a3": True}


def test_a_bad_status_entry_is_skipped_the_rest_written(listener):
    message = {
        "__type": "urn:inin.com:status:userStatusMessage",
        "isDelta": True,
        "userStatusList": [{"userId": "a1"}, {"userId": "a2", "statusId": "At Lunch"}],
    }
    listener._handle_all([message])
    assert Agent.objects.get(id="a2").status_id == "At Lunch"
    assert Agent.objects.get(id="a1").presence_updated_at is None


@pytest.mark.parametrize(
    "message",
    [
        {
            "__type": "urn:inin.com:connection:connectionStateChangeMessage",
            "previousConnectionState": 1,
            "newConnectionState": 2,
            "reason": "switchover",
            "shouldReconnect": True,
        },
        {"__type": "urn:inin.com:messaging:subscriptionStateMessage", "state": 3, "error": "x"},
    ],
    ids=["connection-state", "subscription-faulted"],
)
def test_session_ending_messages_end_the_session_after_writing_the_batch(listener, message):
    status = {
        "__type": "urn:inin.com:status:userStatusMessage",
        "isDelta": True,
        "userStatusList": [{"userId": "a3", "statusId": "Available"}],
    }
    with pytest.raises(SessionEnded):
        listener._handle_all([status, message])
    assert Agent.objects.get(id="a3").status_id == "Available"


def test_a_normal_subscription_state_is_not_an_end(listener):
    message = {"__type": "urn:inin.com:messaging:subscriptionStateMessage", "state": 1}
    listener._handle_all([message])
