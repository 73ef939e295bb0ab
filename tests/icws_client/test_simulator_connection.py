"""Simulator: connecting, session authentication (401s), expiry, logout, features."""

from __future__ import annotations

import time

import pytest
import requests

from icws_client.simulator import Simulator
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

from .conftest import CONNECT_TYPE, connect, open_session

WWW_AUTHENTICATE = 'ICWS realm="ICWS" location="/ICWS/connection"'
ICWS_JSON = "application/vnd.inin.icws+json; charset=utf-8"


def test_connect_answers_201_with_body_headers_cookie_and_location(simulator):
    r = connect(simulator.base_url, include="features,version")
    assert r.status_code == 201
    assert r.headers["Content-Type"] == ICWS_JSON
    body = r.json()
    sid = body["sessionId"]
    assert sid.isdigit()
    assert r.headers["ININ-ICWS-Session-ID"] == sid
    assert r.headers["ININ-ICWS-CSRF-Token"] == body["csrfToken"]
    assert r.headers["Location"] == f"/icws/{sid}/connection"
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"icws_{sid}=")
    assert "Path=/icws" in cookie
    assert "HttpOnly" in cookie
    assert body["userID"] == SERVICE_USER
    assert body["userDisplayName"]
    assert body["icServer"] == "cic1"
    assert body["alternateHostList"] == ["cic-icws"]  # non-empty, as recorded (REF 10)
    assert isinstance(body["daysUntilPasswordExpiration"], int)
    features = {f["featureId"]: f["version"] for f in body["features"]}
    assert features["dialer"] == 7
    assert features["connection"] == 11
    assert features["messaging"] == 2
    assert body["version"]["majorVersion"]


def test_connect_includes_only_what_was_asked_for(simulator):
    body = connect(simulator.base_url).json()
    assert "features" not in body and "version" not in body and "serverTimeInfo" not in body
    timed = connect(simulator.base_url, include="server-time").json()
    assert len(timed["serverTimeInfo"]["serverUtcTime"]) == len("20210706T193229Z")
    r = connect(simulator.base_url, include="features,no-such-thing")
    assert r.status_code == 400
    assert "no-such-thing" in r.json()["message"]


def test_two_connects_make_two_sessions(simulator):
    a, b = open_session(simulator.base_url), open_session(simulator.base_url)
    assert a.session_id != b.session_id
    assert a.csrf_token != b.csrf_token
    assert a.cookie_value != b.cookie_value


@pytest.mark.parametrize(
    ("user", "password"),
    [(SERVICE_USER, "wrong"), ("nobody", SERVICE_PASSWORD), ("s.oneill", ""), ("", "")],
)
def test_bad_credentials_are_a_400_authentication_failure(simulator, user, password):
    r = connect(simulator.base_url, user, password)
    assert r.status_code == 400
    body = r.json()
    assert body["errorId"] == "error.request.connection.authenticationFailure"
    assert body["errorCode"] == -2147221503
    assert body["message"]
    assert "wrong" not in r.text


def test_the_supervisor_from_the_seed_can_log_in_and_agents_cannot(simulator):
    r = connect(simulator.base_url, "sup.morgan", "supervisor-demo")
    assert r.status_code == 201
    assert r.json()["userDisplayName"] == "Dana Morgan"
    agent = simulator.state()["agents"][0]["id"]
    assert connect(simulator.base_url, agent, "supervisor-demo").status_code == 400


def test_service_account_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("ICWS_USER", "svc_from_env")
    monkeypatch.setenv("ICWS_PASSWORD", "env-secret")
    with Simulator(port=0) as sim:
        assert connect(sim.base_url, "svc_from_env", "env-secret").status_code == 201
        assert connect(sim.base_url, SERVICE_USER, SERVICE_PASSWORD).status_code == 400


def test_accept_language_is_required(simulator):
    r = requests.post(
        f"{simulator.base_url}/icws/connection",
        json={
            "__type": CONNECT_TYPE,
            "applicationName": "tests",
            "userID": SERVICE_USER,
            "password": SERVICE_PASSWORD,
        },
        timeout=5,
    )
    assert r.status_code == 400
    assert r.json()["errorId"] == "error.request.missingHeader"
    assert "Accept-Language" in r.json()["message"]


@pytest.mark.parametrize("missing", ["__type", "applicationName", "userID", "password"])
def test_missing_connect_property_is_named(simulator, missing):
    body = {
        "__type": CONNECT_TYPE,
        "applicationName": "tests",
        "userID": SERVICE_USER,
        "password": SERVICE_PASSWORD,
    }
    del body[missing]
    r = connect(simulator.base_url, body=body)
    assert r.status_code == 400
    error = r.json()
    assert error["__type"] == "urn:inin.com:common:missingPropertyError"
    assert error["propertyName"] == missing
    assert missing in error["message"]


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"userID": 5}, "userID"),
        ({"password": ["x"]}, "password"),
        ({"applicationName": ""}, "applicationName"),
        ({"__type": "urn:inin.com:connection:nonsense"}, "__type"),
        ({"userId": "lowercase d"}, "userId"),
    ],
)
def test_invalid_connect_property_is_named(simulator, changes, name):
    body = {
        "__type": CONNECT_TYPE,
        "applicationName": "tests",
        "userID": SERVICE_USER,
        "password": SERVICE_PASSWORD,
        **changes,
    }
    r = connect(simulator.base_url, body=body)
    assert r.status_code == 400
    assert r.json()["__type"] == "urn:inin.com:common:invalidPropertyError"
    assert r.json()["propertyName"] == name


@pytest.mark.parametrize(
    "kind",
    [
        "urn:inin.com:connection:authTokenConnectionRequestSettings",
        "urn:inin.com:connection:singleSignOnTokenConnectionRequestSettings",
    ],
)
def test_other_connection_types_are_not_supported(simulator, kind):
    r = connect(simulator.base_url, body={"__type": kind, "applicationName": "tests"})
    assert r.status_code == 400
    assert "not supported by this simulator" in r.json()["message"]


@pytest.mark.parametrize("body", [[], "text", 5])
def test_connect_body_must_be_an_object(simulator, body):
    r = connect(simulator.base_url, body=body)
    assert r.status_code == 400
    assert r.json()["message"]


def _assert_401(r: requests.Response, code: int) -> None:
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == WWW_AUTHENTICATE
    assert r.json()["errorCode"] == code
    assert r.json()["message"]


def test_unknown_session_id_is_401_code_1(simulator, icws_session):
    r = requests.get(
        f"{simulator.base_url}/icws/1234567890/status/status-messages",
        headers=icws_session.headers,
        timeout=5,
    )
    _assert_401(r, 1)
    assert "requires a session ID" in r.json()["message"]


def test_wrong_or_missing_csrf_token_is_401_code_2(icws_session):
    r = icws_session.get("/status/status-messages", headers={"ININ-ICWS-CSRF-Token": "nope"})
    _assert_401(r, 2)
    assert r.json()["message"].startswith("An authentication token was expected")
    headers = {k: v for k, v in icws_session.headers.items() if k != "ININ-ICWS-CSRF-Token"}
    r = requests.get(icws_session.url("/status/status-messages"), headers=headers, timeout=5)
    _assert_401(r, 2)
    assert icws_session.get("/status/status-messages").status_code == 200


def test_missing_or_wrong_cookie_is_401_code_2(icws_session):
    headers = {k: v for k, v in icws_session.headers.items() if k != "Cookie"}
    r = requests.get(icws_session.url("/status/status-messages"), headers=headers, timeout=5)
    _assert_401(r, 2)
    r = icws_session.get(
        "/status/status-messages", headers={"Cookie": f"{icws_session.cookie_name}=forged"}
    )
    _assert_401(r, 2)
    other_cookies = f"a=b; {icws_session.cookie_name}={icws_session.cookie_value}; c=d"
    assert icws_session.get("/status/status-messages", headers={"Cookie": other_cookies}).ok


def test_one_sessions_token_and_cookie_do_not_open_another(simulator):
    a, b = open_session(simulator.base_url), open_session(simulator.base_url)
    r = requests.get(b.url("/status/status-messages"), headers=a.headers, timeout=5)
    _assert_401(r, 2)


def test_messages_may_omit_the_csrf_token_but_not_the_cookie(icws_session):
    no_csrf = {k: v for k, v in icws_session.headers.items() if k != "ININ-ICWS-CSRF-Token"}
    r = requests.get(icws_session.url("/messaging/messages"), headers=no_csrf, timeout=5)
    assert r.status_code == 200
    assert r.json() == []
    no_cookie = {k: v for k, v in no_csrf.items() if k != "Cookie"}
    _assert_401(requests.get(icws_session.url("/messaging/messages"), headers=no_cookie), 2)
    _assert_401(
        icws_session.get("/messaging/messages", headers={"ININ-ICWS-CSRF-Token": "wrong"}), 2
    )
    # The exception is for messages only.
    _assert_401(requests.get(icws_session.url("/status/status-messages"), headers=no_csrf), 2)


def test_idle_sessions_expire_and_activity_keeps_them_alive():
    with Simulator(
        port=0,
        session_idle_timeout=0.4,
        service_user=SERVICE_USER,
        service_password=SERVICE_PASSWORD,
    ) as sim:
        busy, idle = open_session(sim.base_url), open_session(sim.base_url)
        for _ in range(5):
            time.sleep(0.15)
            assert busy.get("/connection").status_code == 200
        _assert_401(idle.get("/connection"), 1)
        time.sleep(0.5)
        _assert_401(busy.get("/connection"), 1)


def test_connection_state_and_logout(icws_session):
    r = icws_session.get("/connection")
    assert r.status_code == 200
    assert r.json()["connectionState"] == 1
    r = icws_session.delete("/connection")
    assert r.status_code == 204
    assert r.content == b""
    _assert_401(icws_session.get("/connection"), 1)
    _assert_401(icws_session.delete("/connection"), 1)


def test_features_need_no_session(simulator):
    r = requests.get(f"{simulator.base_url}/icws/connection/features", timeout=5)
    assert r.status_code == 200
    features = {f["featureId"]: f["version"] for f in r.json()["featureInfoList"]}
    assert set(features) == {"connection", "messaging", "dialer", "configuration", "status"}
    assert features["dialer"] == 7
    one = requests.get(f"{simulator.base_url}/icws/connection/features/dialer", timeout=5)
    assert one.json() == {"featureId": "dialer", "version": 7}
    unknown = requests.get(f"{simulator.base_url}/icws/connection/features/teleport", timeout=5)
    assert unknown.status_code == 400
    assert unknown.json()["errorId"] == "error.request.unsupported"
    version = requests.get(f"{simulator.base_url}/icws/connection/version", timeout=5).json()
    assert {"majorVersion", "minorVersion", "su", "build"} <= set(version)


def test_dialer_version_is_configurable():
    with Simulator(port=0, dialer_version=6) as sim:
        r = requests.get(f"{sim.base_url}/icws/connection/features/dialer", timeout=5)
        assert r.json()["version"] == 6


def test_unknown_paths_are_404_and_wrong_methods_405(simulator, icws_session):
    r = icws_session.get("/no/such/thing")
    assert r.status_code == 404
    assert r.json()["errorId"] == "error.request.notFound"
    assert requests.get(f"{simulator.base_url}/icws", timeout=5).status_code == 404
    r = icws_session.get("/dialer/allocate-agents")
    assert r.status_code == 405
    assert r.json()["errorId"] == "error.request.accessDenied.httpMethodNotAllowed"
    assert r.headers["Allow"] == "POST"
    r = requests.get(f"{simulator.base_url}/icws/connection", timeout=5)
    assert r.status_code == 405


# -- the record's shapes (REF 10) ---------------------------------------------------------------


def test_connect_cookie_is_as_recorded_from_a_live_server(simulator):
    r = connect(simulator.base_url)
    sid = r.json()["sessionId"]
    cookie = r.headers["Set-Cookie"]
    name_value, *attributes = (part.strip() for part in cookie.split(";"))
    assert name_value.startswith(f"icws_{sid}=")
    assert name_value.endswith("|languageId=en-us")
    assert attributes == [f"Path=/icws/{sid}", "HttpOnly"]  # no Secure over plain http
    assert r.json()["alternateHostList"]  # non-empty even on a single server


def test_the_cookie_path_lets_a_cookie_jar_send_it_back(simulator):
    s = requests.Session()
    r = connect(simulator.base_url)
    s.cookies.update(r.cookies)
    body = r.json()
    got = s.get(
        f"{simulator.base_url}/icws/{body['sessionId']}/connection",
        headers={"Accept-Language": "en-us", "ININ-ICWS-CSRF-Token": body["csrfToken"]},
        timeout=5,
    )
    assert got.status_code == 200, got.text


def test_401_bodies_are_the_recorded_ones_without_error_ids(simulator, icws_session):
    unknown = requests.get(
        f"{simulator.base_url}/icws/1234567890/connection",
        headers=icws_session.headers,
        timeout=5,
    )
    assert unknown.json() == {"message": "This request requires a session ID!", "errorCode": 1}
    no_token = requests.get(
        f"{simulator.base_url}/icws/{icws_session.session_id}/connection",
        headers={"Accept-Language": "en-us", "Cookie": icws_session.headers["Cookie"]},
        timeout=5,
    )
    assert no_token.json() == {
        "message": "An authentication token was expected in the request, but not found.",
        "errorCode": 2,
    }


def test_410_says_resource_removed_without_an_error_id(simulator, icws_session):
    simulator.set_faults(status=410, count=1)
    r = icws_session.get("/connection")
    assert r.status_code == 410
    assert r.json() == {"message": "This resource has been deprecated and removed from the API."}


def test_alternate_hosts_can_be_set_empty():
    with Simulator(port=0, alternate_hosts=()) as sim:
        assert connect(sim.base_url).json()["alternateHostList"] == []
