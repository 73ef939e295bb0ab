"""Simulator: user-status subscriptions, short polling, deltas, queue bound, /sim/user-status."""

from __future__ import annotations

import pytest
import requests

SUBSCRIPTION = "/messaging/subscriptions/status/user-statuses"
MESSAGES = "/messaging/messages"
USER_STATUS_MESSAGE = "urn:inin.com:status:userStatusMessage"


def _agents(simulator, n):
    return [a["id"] for a in simulator.state()["agents"][:n]]


def _set_status(simulator, **body):
    return requests.post(f"{simulator.base_url}/sim/user-status", json=body, timeout=5)


def test_subscribing_queues_a_full_snapshot_then_the_queue_is_empty(simulator, icws_session):
    agents = _agents(simulator, 3)
    r = icws_session.put(SUBSCRIPTION, json={"userIds": agents})
    assert r.status_code == 204
    (message,) = icws_session.get(MESSAGES).json()
    assert message["__type"] == USER_STATUS_MESSAGE
    assert message["isDelta"] is False
    statuses = {s["userId"]: s for s in message["userStatusList"]}
    assert set(statuses) == set(agents)
    for agent in agents:
        assert statuses[agent] == icws_session.get(f"/status/user-statuses/{agent}").json()
    assert icws_session.get(MESSAGES).json() == []


def test_status_changes_push_deltas_until_unsubscribed(simulator, icws_session):
    agent, other = _agents(simulator, 2)
    icws_session.put(SUBSCRIPTION, json={"userIds": [agent]})
    icws_session.get(MESSAGES)
    r = _set_status(simulator, userId=agent, statusId="At Lunch", onPhone=False)
    assert r.status_code == 200
    assert r.json()["statusId"] == "At Lunch"
    assert _set_status(simulator, userId=other, statusId="At Lunch").status_code == 200
    (delta,) = icws_session.get(MESSAGES).json()
    assert delta["isDelta"] is True
    assert [s["userId"] for s in delta["userStatusList"]] == [agent]
    assert delta["userStatusList"][0]["statusId"] == "At Lunch"
    assert icws_session.delete(SUBSCRIPTION).status_code == 204
    _set_status(simulator, userId=agent, statusId="Available")
    assert icws_session.get(MESSAGES).json() == []


def test_status_properties_limit_what_is_sent(simulator, icws_session):
    agent = _agents(simulator, 1)[0]
    body = {"userIds": [agent], "userStatusProperties": ["onPhone"]}
    assert icws_session.put(SUBSCRIPTION, json=body).status_code == 204
    (message,) = icws_session.get(MESSAGES).json()
    assert set(message["userStatusList"][0]) == {"userId", "statusId", "onPhone"}
    bad = icws_session.put(SUBSCRIPTION, json={"userIds": [agent], "userStatusProperties": ["x"]})
    assert bad.status_code == 400
    assert bad.json()["propertyName"] == "userStatusProperties"


def test_unknown_user_is_404_and_nothing_is_subscribed(simulator, icws_session):
    agent = _agents(simulator, 1)[0]
    r = icws_session.put(SUBSCRIPTION, json={"userIds": [agent, "no.such.user"]})
    assert r.status_code == 404
    assert "no.such.user" in r.json()["message"]
    _set_status(simulator, userId=agent, statusId="Do Not Disturb")
    assert icws_session.get(MESSAGES).json() == []


@pytest.mark.parametrize(
    ("body", "named"),
    [({}, "userIds"), ({"userIds": []}, "userIds"), ({"userIds": "a"}, "userIds"),
     ({"userIds": ["a"], "extra": 1}, "extra"), ([], "object")],
)  # fmt: skip
def test_bad_subscriptions_are_400(icws_session, body, named):
    r = icws_session.put(SUBSCRIPTION, json=body)
    assert r.status_code == 400
    assert named in r.json()["message"]


def test_sessions_have_separate_queues(simulator, icws_session):
    from .conftest import open_session

    other = open_session(simulator.base_url)
    agent = _agents(simulator, 1)[0]
    icws_session.put(SUBSCRIPTION, json={"userIds": [agent]})
    assert other.get(MESSAGES).json() == []
    assert len(icws_session.get(MESSAGES).json()) == 1


def test_queues_are_bounded_dropping_the_oldest(simulator, icws_session):
    agent = _agents(simulator, 1)[0]
    icws_session.put(SUBSCRIPTION, json={"userIds": [agent]})
    statuses = ["Available", "At Lunch"]
    with requests.Session() as http:
        for n in range(1005):
            r = http.post(
                f"{simulator.base_url}/sim/user-status",
                json={"userId": agent, "statusId": statuses[n % 2]},
                timeout=5,
            )
            assert r.status_code == 200
    messages = icws_session.get(MESSAGES).json()
    assert len(messages) == 1000
    assert all(m["isDelta"] for m in messages), "the snapshot was the oldest, so it was dropped"
    assert messages[-1]["userStatusList"][0]["statusId"] == statuses[1004 % 2]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"userId": "no.such.user", "statusId": "Available"}, 404),
        ({"userId": "sup.morgan", "statusId": "Sleeping"}, 400),
        ({"userId": "sup.morgan"}, 400),
        ({"userId": "sup.morgan", "statusId": "Available", "onPhone": "yes"}, 400),
        ({"userId": "sup.morgan", "statusId": "Available", "mood": "good"}, 400),
    ],
)
def test_sim_user_status_validates(simulator, body, status):
    r = _set_status(simulator, **body)
    assert r.status_code == status
    assert r.json()["message"]


def test_sim_user_status_changes_presence(simulator, icws_session):
    r = _set_status(simulator, userId="sup.morgan", statusId="Gone Home", loggedIn=False)
    assert r.status_code == 200
    status = icws_session.get("/status/user-statuses/sup.morgan").json()
    assert status["statusId"] == "Gone Home"
    assert status["loggedIn"] is False
    assert status["stations"] == []
