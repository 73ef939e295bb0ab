"""Session handling against the simulator over real HTTP."""

from __future__ import annotations

import socket

import pytest
import requests

from icws_client import (
    IcwsBadRequest,
    IcwsClient,
    IcwsConnectionError,
    IcwsTimeout,
    IcwsUnauthorized,
    IcwsUnavailable,
)
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

from .simcalls import calls


def test_connect_opens_a_session_with_features(icws):
    conn = icws.connect()
    assert conn.session_id and conn.csrf_token
    assert conn.user_id == SERVICE_USER
    assert {f.feature_id for f in conn.features} >= {"connection", "dialer", "messaging"}
    assert icws.connect() is conn, "connect is idempotent while the session lives"


def test_first_call_connects_lazily(icws, sim):
    assert icws.connection is None
    assert icws.list_status_messages()
    assert icws.connection is not None
    assert calls(sim, "POST", "/icws/connection") == 1


def test_every_session_call_carries_cookie_and_csrf(icws, sim):
    # The simulator answers 401 to any session call missing either; several calls pass.
    icws.list_status_messages()
    icws.list_campaigns()
    sim.dialer_login(SERVICE_USER)
    icws.ready_for_calls()
    assert calls(sim, "POST", "/icws/connection") == 1


def test_the_session_token_is_needed(icws, sim):
    conn = icws.connect()
    # Same session id, no CSRF token and no cookie: the server refuses.
    r = requests.get(
        f"{sim.base_url}/icws/{conn.session_id}/status/status-messages",
        headers={"Accept-Language": "en-us"},
        timeout=5,
    )
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("ICWS")


def test_bad_credentials_raise_bad_request_and_are_not_retried(sim):
    c = IcwsClient(sim.base_url, SERVICE_USER, "wrong password", timeout=2.0)
    with pytest.raises(IcwsBadRequest) as info:
        c.connect()
    assert info.value.error_id == "error.request.connection.authenticationFailure"
    assert info.value.status == 400
    assert "wrong password" not in str(info.value)
    assert calls(sim, "POST", "/icws/connection") == 1


def test_close_logs_out_and_the_old_session_is_refused(icws, sim):
    conn = icws.connect()
    cookie = icws._session.cookie
    icws.close()
    assert icws.connection is None
    r = requests.get(
        f"{sim.base_url}/icws/{conn.session_id}/status/status-messages",
        headers={
            "Accept-Language": "en-us",
            "ININ-ICWS-CSRF-Token": conn.csrf_token,
            "Cookie": cookie,
        },
        timeout=5,
    )
    assert r.status_code == 401
    icws.close()  # twice is fine


def test_context_manager_connects_and_closes(sim):
    with IcwsClient(sim.base_url, SERVICE_USER, SERVICE_PASSWORD) as c:
        assert c.connection is not None
    assert c.connection is None
    assert calls(sim, "DELETE", "/connection") == 1


def test_expired_session_reconnects_once_and_repeats_the_call(icws, sim):
    first = icws.connect().session_id
    sim.set_faults(expire_sessions=True)
    assert icws.list_status_messages()
    assert icws.connection.session_id != first
    assert calls(sim, "POST", "/icws/connection") == 2


def test_a_second_401_is_raised_not_looped(icws, sim):
    icws.connect()
    sim.set_faults(status=401, count=5, paths="status-messages")
    with pytest.raises(IcwsUnauthorized):
        icws.list_status_messages()
    assert calls(sim, "GET", "status-messages") == 2  # the call, then once after reconnecting
    assert calls(sim, "POST", "/icws/connection") == 2


def test_410_reconnects_once_like_401(icws, sim):
    icws.connect()
    sim.set_faults(status=410, count=1, paths="allocate-agents")
    agent = sim.state()["agents"][0]["id"]
    campaign = sim.state()["campaigns"][0]["id"]
    icws.allocate_agents([agent], campaign_ids_in=[campaign])
    assert calls(sim, "POST", "allocate-agents") == 2


def test_503_at_connect_follows_alternate_host_and_remembers_it(sim):
    port = sim.port
    sim.set_faults(
        connect_503={"count": None, "hosts": ["127.0.0.1"], "alternate_hosts": ["localhost"]}
    )
    c = IcwsClient(
        f"http://127.0.0.1:{port}",
        SERVICE_USER,
        SERVICE_PASSWORD,
        timeout=2.0,
        allowed_alternate_hosts=["localhost"],
    )
    c.connect()
    assert c.base_url == f"http://localhost:{port}"
    assert c.list_status_messages()  # later calls go to the alternate host
    c.close()


def test_503_hops_are_bounded(sim):
    sim.set_faults(connect_503={"count": None, "alternate_hosts": ["localhost", "127.0.0.1"]})
    c = IcwsClient(
        sim.base_url,
        SERVICE_USER,
        SERVICE_PASSWORD,
        timeout=2.0,
        max_host_hops=3,
        allowed_alternate_hosts=["localhost"],
    )
    with pytest.raises(IcwsUnavailable) as info:
        c.connect()
    assert info.value.alternate_hosts
    # Two distinct hosts exist; each is tried once, never in a loop.
    assert calls(sim, "POST", "/icws/connection") == 2


def test_refused_connection_is_a_connection_error_with_no_status():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = IcwsClient(f"http://127.0.0.1:{port}", "u", "p", timeout=1.0, read_retries=0)
    with pytest.raises(IcwsConnectionError) as info:
        c.connect()
    assert info.value.status is None
    assert info.value.transient


def test_every_request_has_a_timeout(icws, sim):
    icws.connect()
    sim.set_faults(latency_ms=1500, paths="allocate-agents")
    icws.timeout = 0.3
    agent = sim.state()["agents"][0]["id"]
    campaign = sim.state()["campaigns"][0]["id"]
    with pytest.raises(IcwsTimeout):
        icws.allocate_agents([agent], campaign_ids_in=[campaign])


def test_feature_version(icws):
    assert icws.feature_version("dialer") == 7
    assert icws.feature_version("no-such-feature") is None


@pytest.mark.parametrize(
    "base_url",
    ["cic1:8018", "ftp://cic1", "http://", "http://cic1:8018/icws", "http://cic1?x=1"],
)
def test_bad_base_urls_are_refused_with_a_clear_message(base_url):
    with pytest.raises(ValueError, match="base_url"):
        IcwsClient(base_url, "u", "p")


def test_repr_never_shows_the_password(sim):
    c = IcwsClient(sim.base_url, SERVICE_USER, SERVICE_PASSWORD)
    assert SERVICE_PASSWORD not in repr(c)
