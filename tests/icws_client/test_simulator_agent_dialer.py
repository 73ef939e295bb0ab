"""Simulator: users sign in with their seed passwords; ready-for-calls needs a Dialer log-in
(set through /sim/dialer-login) and every call is recorded under /sim/ready-for-calls."""

from __future__ import annotations

import requests

from icws_client.simulator.seed import AGENT_PASSWORD, AUDITOR_ID, AUDITOR_PASSWORD

from .conftest import open_session

READY = "/dialer/ready-for-calls"


def _connect(base_url, user, password):
    return requests.post(
        f"{base_url}/icws/connection",
        json={
            "__type": "urn:inin.com:connection:icAuthConnectionRequestSettings",
            "applicationName": "test",
            "userID": user,
            "password": password,
        },
        headers={"Accept-Language": "en-us"},
        timeout=5,
    )


def test_seed_users_connect_with_their_passwords_and_not_without(simulator):
    agent = simulator.state()["agents"][0]["id"]
    assert _connect(simulator.base_url, agent, AGENT_PASSWORD).status_code == 201
    assert _connect(simulator.base_url, AUDITOR_ID, AUDITOR_PASSWORD).status_code == 201
    wrong = _connect(simulator.base_url, agent, "nope")
    assert wrong.status_code == 400
    # The recorded shape (REF 6): errorId, message and errorCode, nothing else.
    assert wrong.json() == {
        "errorId": "error.request.connection.authenticationFailure",
        "message": "The authentication process failed.",
        "errorCode": -2147221503,
    }


def test_ready_for_calls_needs_a_dialer_log_in_and_is_recorded(simulator):
    agent = simulator.state()["agents"][0]["id"]
    campaign = simulator.state()["campaigns"][0]["id"]
    session = open_session(simulator.base_url, agent, AGENT_PASSWORD)
    refused = session.post(READY, json={"campaignIds": [campaign]})
    assert refused.status_code == 400
    assert refused.json() == {"message": "The agent is not logged in to Dialer."}

    base = simulator.base_url
    login = requests.post(f"{base}/sim/dialer-login", json={"userId": agent}, timeout=5)
    assert login.status_code == 200 and login.json() == {"loggedIn": [agent]}
    assert session.post(READY, json={"campaignIds": [campaign]}).status_code == 200
    assert session.post(READY).status_code == 200

    log = requests.get(f"{base}/sim/ready-for-calls", timeout=5).json()
    assert [(c["userId"], c["campaignIds"], c["status"]) for c in log] == [
        (agent, [campaign], 400),
        (agent, [campaign], 200),
        (agent, None, 200),
    ]
    assert all(c["applicationName"] == "tests" for c in log)  # open_session's

    out = requests.post(
        f"{base}/sim/dialer-login", json={"userId": agent, "loggedIn": False}, timeout=5
    )
    assert out.json() == {"loggedIn": []}
    assert session.post(READY).status_code == 400
    assert requests.delete(f"{base}/sim/ready-for-calls", timeout=5).status_code == 204
    assert requests.get(f"{base}/sim/ready-for-calls", timeout=5).json() == []


def test_dialer_login_refuses_bad_bodies_and_unknown_users(simulator):
    url = f"{simulator.base_url}/sim/dialer-login"
    assert requests.post(url, json={"userId": "nobody"}, timeout=5).status_code == 404
    assert requests.post(url, json={"user": "x"}, timeout=5).status_code == 400
    assert requests.post(url, json={"userId": 7}, timeout=5).status_code == 400
    bad = requests.post(url, json={"userId": "sup.morgan", "loggedIn": "yes"}, timeout=5)
    assert bad.status_code == 400


def test_reset_logs_everyone_out_of_dialer(simulator):
    simulator.dialer_login("sup.morgan")
    requests.post(f"{simulator.base_url}/sim/reset", timeout=5)
    assert requests.get(f"{simulator.base_url}/sim/dialer-login", timeout=5).json() == {
        "loggedIn": []
    }
