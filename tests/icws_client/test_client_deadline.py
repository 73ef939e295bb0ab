"""One overall deadline per ICWS request, and "a 202 is the answer" (issue 14 items 1 and 2)."""

from __future__ import annotations

import pickle
import socket
import threading
import time

import pytest
import requests

from icws_client import IcwsClient, IcwsTimeout
from icws_client._http import new_session, send
from icws_client.simulator.__main__ import _faults, build_parser
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

from .simcalls import calls, moves


def _client(sim, timeout: float, **kw) -> IcwsClient:
    return IcwsClient(
        sim.base_url, SERVICE_USER, SERVICE_PASSWORD, timeout=timeout, backoff_base=0.01, **kw
    )


def _ids(sim) -> tuple[str, str]:
    state = sim.state()
    return state["agents"][0]["id"], state["campaigns"][0]["id"]


def test_a_trickled_read_ends_at_its_deadline(sim):
    c = _client(sim, 1.0, read_retries=0)
    c.connect()
    sim.set_faults(trickle={"paths": "status-messages", "interval_ms": 1000})
    started = time.monotonic()
    with pytest.raises(IcwsTimeout) as info:
        c.list_status_messages()
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, f"a read with timeout=1 took {elapsed:.2f} s"
    assert info.value.status_received and info.value.status == 200
    c.close()


def test_an_allocate_agents_with_a_trickled_body_is_accepted(sim):
    agent, campaign = _ids(sim)
    seen = []
    c = _client(sim, 1.0, on_call=seen.append)
    c.connect()
    sim.set_faults(trickle={"paths": "allocate-agents", "interval_ms": 1000})
    started = time.monotonic()
    c.allocate_agents([agent], campaign_ids_in=[campaign])  # no exception: 202 is the answer
    assert time.monotonic() - started < 1.5
    assert calls(sim, "POST", "allocate-agents") == 1, "sent once, never again"
    sim.wait_idle()
    assert [m["agentIds"] for m in moves(sim)] == [[agent]]
    sent = [e for e in seen if e.path.endswith("allocate-agents")]
    assert [(e.status, e.failure) for e in sent] == [(202, None)]
    c.close()


def test_a_send_whose_status_never_came_is_of_unknown_outcome(sim):
    agent, campaign = _ids(sim)
    c = _client(sim, 0.5)
    c.connect()
    sim.set_faults(latency_ms=3000, paths="allocate-agents", count=1)
    started = time.monotonic()
    with pytest.raises(IcwsTimeout) as info:
        c.allocate_agents([agent], campaign_ids_in=[campaign])
    assert time.monotonic() - started < 1.0
    assert info.value.sent and not info.value.status_received and info.value.status is None
    assert calls(sim, "POST", "allocate-agents") <= 1, "a write is never re-sent by the client"
    c.close()


def test_the_timeout_flags_survive_pickling():
    error = IcwsTimeout("late", sent=True, status_received=True, status=202, request="POST /x")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.sent, copy.status_received, copy.status) == (True, True, 202)


def _slow_headers_server(stop: threading.Event) -> int:
    """A server that sends its status line, then its headers one byte every 0.2 s."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for byte in b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}":
                if stop.wait(0.2):
                    break
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    break
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def test_headers_that_trickle_in_are_bounded_too():
    stop = threading.Event()
    port = _slow_headers_server(stop)
    started = time.monotonic()
    try:
        with pytest.raises(IcwsTimeout) as info:
            send(new_session(), "GET", f"http://127.0.0.1:{port}/x", timeout=1.0, what="GET /x")
    finally:
        stop.set()
    assert time.monotonic() - started < 1.5
    assert info.value.status_received and info.value.status == 200


def test_fast_answers_are_untouched_by_the_deadline(sim):
    c = _client(sim, 1.0)
    for _ in range(20):
        assert c.list_status_messages()
    c.close()


def test_the_trickle_fault_is_validated_and_shown(sim):
    bad = requests.post(
        f"{sim.base_url}/sim/faults", json={"trickle": {"interval_ms": 0}}, timeout=5
    )
    assert bad.status_code == 400
    assert "trickle.interval_ms" in bad.json()["message"]
    unknown = requests.post(f"{sim.base_url}/sim/faults", json={"trickle": {"x": 1}}, timeout=5)
    assert unknown.status_code == 400
    shown = sim.set_faults(trickle={"interval_ms": 200, "count": 2})
    assert shown["trickle"] == {"paths": None, "interval_ms": 200, "count": 2}


def test_the_trickle_fault_has_a_cli_flag():
    parser = build_parser()
    args = parser.parse_args(["--trickle-ms", "500", "--trickle-paths", "allocate-agents"])
    assert _faults(args, parser) == {"trickle": {"interval_ms": 500, "paths": "allocate-agents"}}
