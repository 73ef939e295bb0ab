"""Simulator: bad input never crashes it (sizes, lengths, encodings, nesting), and concurrency."""

from __future__ import annotations

import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .conftest import open_session

ALLOCATE = "/dialer/allocate-agents"


def _raw(simulator, data: bytes, *, half_close: bool = False) -> bytes:
    """Send raw bytes, return everything the server answers until it closes (or 5 s pass)."""
    with socket.create_connection(("127.0.0.1", simulator.port), timeout=5) as s:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def _status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def _still_serving(simulator) -> None:
    r = requests.get(f"{simulator.base_url}/icws/connection/features", timeout=5)
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"{broken", "application/json", 400),
        (b"\xc3\x28", "application/json", 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
        (b'{"agentIds": NaN}', "application/json", 400),
        (b"12", "application/json", 400),
        (b'{"agentIds": ["a"]}', "text/plain", 415),
        (b'{"agentIds": ["a"]}', "application/json; charset=latin-1", 415),
    ],
)
def test_bad_bodies_get_error_answers(simulator, icws_session, raw, content_type, status):
    r = icws_session.post(ALLOCATE, data=raw, headers={"Content-Type": content_type})
    assert r.status_code == status
    assert r.headers["Content-Type"].startswith("application/vnd.inin.icws+json")
    assert r.json()["message"]
    _still_serving(simulator)


def test_a_2_mib_body_is_refused_and_the_server_carries_on(simulator, icws_session):
    big = b'{"agentIds": ["' + b"a" * (2 * 1024 * 1024) + b'"]}'
    r = icws_session.post(ALLOCATE, data=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["errorId"] == "error.request.tooLarge"
    _still_serving(simulator)
    assert icws_session.get("/connection").ok


def test_a_huge_claimed_length_is_refused_without_waiting_for_the_body(simulator):
    request = b"POST /icws/connection HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{}"
    status, body = _status_and_body(_raw(simulator, request))
    assert status == 400
    assert body["errorId"] == "error.request.tooLarge"


@pytest.mark.parametrize("length", [b"abc", b"-5", b"1e3", b"\xc2\xb2", b"10, 20"])
def test_garbage_content_length_is_400_and_closes(simulator, length):
    request = b"POST /icws/connection HTTP/1.1\r\nHost: x\r\nContent-Length: " + length
    answer = _raw(simulator, request + b"\r\n\r\n{}")
    status, body = _status_and_body(answer)
    assert status == 400
    assert body["errorId"] == "error.request.invalidContentLength"
    assert b"Connection: close" in answer
    _still_serving(simulator)


def test_body_shorter_than_its_content_length(simulator):
    request = b"POST /icws/connection HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}"
    status, body = _status_and_body(_raw(simulator, request, half_close=True))
    assert status == 400
    assert "Content-Length" in body["message"]


def test_chunked_bodies_are_refused(simulator):
    request = (
        b"POST /icws/connection HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\n{}\r\n0\r\n\r\n"
    )
    status, body = _status_and_body(_raw(simulator, request))
    assert status == 411
    assert body["message"]


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"BREW /icws/connection HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
    ],
)
def test_protocol_errors_get_json_bodies(simulator, request_bytes, status):
    got, body = _status_and_body(_raw(simulator, request_bytes))
    assert got == status
    assert body["message"]
    _still_serving(simulator)


def test_paths_with_bad_percent_encoding(simulator, icws_session):
    r = icws_session.get("/status/user-statuses/%FF%FE")
    assert r.status_code == 400
    assert r.json()["message"]
    assert icws_session.get("/status/user-statuses/%2e%2e").status_code == 404


def test_unexpected_exceptions_are_500_and_the_server_keeps_running(simulator, icws_session):
    def explode(app, req, params):
        raise RuntimeError("boom")

    route = next(r for r in simulator.app.router.routes if r.template.endswith("status-messages"))
    route.methods["GET"] = explode
    r = icws_session.get("/status/status-messages")
    assert r.status_code == 500
    assert r.json()["errorCode"] == -2147467259
    assert "boom" not in r.text
    assert icws_session.get("/connection").ok


def test_keep_alive_connections_are_reused(simulator, icws_session):
    with requests.Session() as http:
        for _ in range(5):
            r = http.get(icws_session.url("/connection"), headers=icws_session.headers, timeout=5)
            assert r.status_code == 200
        big = b"x" * (2 * 1024 * 1024)
        assert http.post(f"{simulator.base_url}/sim/faults", data=big, timeout=5).status_code == 400
        assert http.get(f"{simulator.base_url}/sim/state", timeout=5).ok


def test_concurrent_allocations_are_all_answered_and_state_stays_consistent(simulator):
    state = simulator.state()
    running = [c["id"] for c in state["campaigns"] if c["state"] == "on"]
    agents = [a["id"] for a in state["agents"]][:20]
    session = open_session(simulator.base_url)
    barrier = threading.Barrier(20)

    def move(n: int) -> int:
        target = running[n % len(running)]
        body = {
            "agentIds": [agents[n], agents[(n + 1) % 20]],
            "campaignIdsIn": [target],
            "campaignIdsOut": [c for c in running if c != target],
        }
        barrier.wait(timeout=5)
        return session.post(ALLOCATE, json=body).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(move, range(20)))
    assert codes == [202] * 20
    simulator.wait_idle(timeout=5)
    moves = simulator.moves()
    assert [m["seq"] for m in moves] == list(range(1, 21))
    # Replaying the log in order gives exactly the final membership.
    expected = {a: list(state["membership"][a]) for a in agents}
    for m in moves:
        for agent in m["agentIds"]:
            kept = [c for c in expected[agent] if c not in m["campaignIdsOut"]]
            expected[agent] = kept + [c for c in m["campaignIdsIn"] if c not in kept]
    final = simulator.state()["membership"]
    for agent in agents:
        assert final[agent] == expected[agent]
        assert len([c for c in final[agent] if c in running]) == 1


def test_concurrent_connects_get_distinct_sessions(simulator):
    with ThreadPoolExecutor(max_workers=20) as pool:
        sessions = list(pool.map(lambda _: open_session(simulator.base_url), range(20)))
    assert len({s.session_id for s in sessions}) == 20
    assert all(s.get("/connection").ok for s in sessions)
