"""Failover when the primary is gone (issue 13 item 4), with two simulators over real HTTP.

The primary listens on 127.0.0.1 and the peer on 127.0.0.2, on the same port (ICWS alternates
are bare host names: same scheme and port). "Gone" is ``stop()``: the port is closed.
"""

from __future__ import annotations

import logging
import time

import pytest

from icws_client import IcwsClient, IcwsConnectionError
from icws_client.simulator import Simulator
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

from .simcalls import calls, moves

PEER = "127.0.0.2"


def _sim(host: str, port: int = 0, **kw) -> Simulator:
    sim = Simulator(
        host=host,
        port=port,
        apply_delay=0.01,
        service_user=SERVICE_USER,
        service_password=SERVICE_PASSWORD,
        **kw,
    )
    sim.start()
    return sim


@pytest.fixture
def pair():
    primary = _sim("127.0.0.1", alternate_hosts=[PEER])
    try:
        peer = _sim(PEER, primary.port, alternate_hosts=["127.0.0.1"])
    except OSError as exc:  # pragma: no cover - a host without 127.0.0.2
        primary.stop()
        pytest.skip(f"cannot listen on {PEER}: {exc}")
    yield primary, peer
    primary.stop()
    peer.stop()


def _client(primary: Simulator, **kw) -> IcwsClient:
    kw.setdefault("allowed_alternate_hosts", [PEER])
    return IcwsClient(
        primary.base_url,
        SERVICE_USER,
        SERVICE_PASSWORD,
        timeout=2.0,
        backoff_base=0.01,
        **kw,
    )


def _move(sim: Simulator) -> tuple[str, str]:
    state = sim.state()
    return state["agents"][0]["id"], state["campaigns"][0]["id"]


def test_a_move_goes_through_the_peer_when_the_primary_port_is_closed(pair):
    primary, peer = pair
    client = _client(primary)
    client.connect()
    assert client.connection is not None
    primary.stop()
    agent, campaign = _move(peer)
    client.allocate_agents([agent], campaign_ids_in=[campaign])
    assert client.base_url == f"http://{PEER}:{peer.port}"
    peer.wait_idle()
    assert [m["agentIds"] for m in moves(peer)] == [[agent]]
    assert calls(peer, "POST", "allocate-agents") == 1
    assert client.list_status_messages(), "later calls stay on the peer"
    client.close()


def test_a_fresh_client_finds_the_listed_peer_while_the_primary_is_gone(pair):
    primary, peer = pair
    base_url = primary.base_url
    primary.stop()  # a worker started during the outage has no remembered alternates
    client = IcwsClient(
        base_url, SERVICE_USER, SERVICE_PASSWORD, timeout=2.0, allowed_alternate_hosts=[PEER]
    )
    assert client.list_status_messages()
    assert client.base_url == f"http://{PEER}:{peer.port}"
    client.close()


def test_an_unlisted_alternate_is_refused_and_gets_no_password(pair, caplog):
    primary, peer = pair
    client = _client(primary, allowed_alternate_hosts=[])
    client.connect()
    primary.stop()
    agent, campaign = _move(peer)
    with (
        caplog.at_level(logging.WARNING, logger="icws_client"),
        pytest.raises(IcwsConnectionError),
    ):
        client.allocate_agents([agent], campaign_ids_in=[campaign])
    assert calls(peer, "POST", "/icws/connection") == 0, "nothing was sent to the peer"
    assert any(PEER in r.getMessage() and "refused" in r.getMessage() for r in caplog.records)


def test_an_alternate_named_in_a_503_is_refused_unless_listed(pair):
    primary, peer = pair
    primary.set_faults(connect_503={"count": None, "alternate_hosts": ["cic-rogue.example"]})
    client = _client(primary)
    client.connect()  # the rogue is refused; the listed peer answers
    assert client.base_url == f"http://{PEER}:{peer.port}"
    client.close()


def test_failover_is_bounded_when_every_host_is_gone(pair):
    primary, peer = pair
    client = _client(primary)
    client.connect()
    primary.stop()
    peer.stop()
    started = time.monotonic()
    with pytest.raises(IcwsConnectionError):
        client.allocate_agents(["a"], campaign_ids_in=["c"])
    assert time.monotonic() - started < 2.0


def test_hosts_are_compared_without_case_and_a_string_list_is_refused(pair):
    primary, _ = pair
    with pytest.raises(ValueError, match="allowed_alternate_hosts"):
        _client(primary, allowed_alternate_hosts="127.0.0.2")
    assert _client(primary, allowed_alternate_hosts=["CIC2.Example"]).hosts.allows("cic2.example")
