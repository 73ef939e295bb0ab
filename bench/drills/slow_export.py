"""Drill "slow export clients": audit exports read at about 2 KB/s while /healthz is polled.

Issue 16: with 2 sync gunicorn workers, two slow export downloads held both workers and /healthz
timed out for a minute. The stack runs the shipped gunicorn.conf.py (gthread, 2 workers x 8
threads); this drill opens three CSV/JSONL exports over raw sockets with a small receive buffer,
reads each at ~2 KB/s for the drill's length, and polls /healthz (and the board's login page)
every 0.2 s meanwhile. The audit log is seeded with enough rows (~10 MB of export) that the
server really blocks on each slow socket instead of finishing into the kernel's buffers.
"""

from __future__ import annotations

import socket
import threading
import time

import requests

from bench.drills.context import DrillContext, make_token
from bench.drills.invariants import Result

SLOW_CLIENTS = 3
RATE = 2048  # bytes per second each slow client reads
SEED_ROWS = 12_000


def run(ctx: DrillContext) -> Result:
    seconds = 12 if ctx.quick else 30
    r = Result(
        "slow-export-clients",
        f"{SLOW_CLIENTS} clients download audit exports (CSV and JSONL, {SEED_ROWS:,}+ rows) "
        f"at ~2 KB/s for {seconds} s under the shipped gunicorn.conf.py, while /healthz and the "
        "login page are polled every 0.2 s",
        "every poll answers 200 (p95 well under 1 s); the slow downloads are still open at "
        "the end, each having received bytes",
    )
    _seed()
    make_token("slow-export")  # a supervisor (audit viewer) with password drills-slow-export
    cookie = _session_cookie(ctx.stack.web, "slow-export", "drills-slow-export")
    stop = threading.Event()
    received = [0] * SLOW_CLIENTS
    errors: list[str] = []
    paths = ["/audit/export.csv", "/audit/export.jsonl", "/audit/export.csv"]
    slow = [
        threading.Thread(
            target=_slow_reader,
            args=(ctx.stack.web_port, paths[i % len(paths)], cookie, stop, received, i, errors),
        )
        for i in range(SLOW_CLIENTS)
    ]
    for thread in slow:
        thread.start()
    time.sleep(1.0)  # the downloads have started and are holding their server threads
    polls = _poll(ctx.stack.web, seconds)
    still_open = sum(t.is_alive() for t in slow)
    stop.set()
    for thread in slow:
        thread.join(10)
    latencies = sorted(ms for ms, ok in polls if ok)
    failed = [ms for ms, ok in polls if not ok]
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else float("nan")
    r.saw.append(
        f"{len(polls)} polls of /healthz and /accounts/login/: {len(latencies)} answered 200, "
        f"{len(failed)} failed; p50 {latencies[len(latencies) // 2]:.1f} ms, p95 {p95:.1f} ms, "
        f"max {latencies[-1]:.1f} ms"
        if latencies
        else f"{len(polls)} polls, none answered"
    )
    r.saw.append(
        f"slow clients received {', '.join(f'{n / 1024:.0f} KiB' for n in received)} in "
        f"{seconds + 1} s; {still_open} of {SLOW_CLIENTS} still downloading when polling ended"
    )
    if failed:
        r.problems.append(f"{len(failed)} polls failed or took over 5 s")
    if latencies and p95 > 1000:
        r.problems.append(f"poll p95 {p95:.0f} ms while exports were slow")
    if still_open < SLOW_CLIENTS or not all(received):
        r.problems.append("a slow download ended early: the drill did not hold the server")
    r.problems += errors
    return r


def _seed() -> None:
    """Enough audit rows that an export is far larger than the sockets' buffers."""
    from django.db import transaction

    from dashboard.audit.models import AuditEvent
    from dashboard.audit.services import audit_record

    missing = SEED_ROWS - AuditEvent.objects.count()
    reason = "drill padding " + "x" * 300  # ~0.8 KB per exported row
    for start in range(0, max(missing, 0), 2000):
        with transaction.atomic():
            for i in range(start, min(start + 2000, missing)):
                audit_record(kind="roster_import", message=f"slow-export seed {i}", reason=reason)


def _session_cookie(web: str, username: str, password: str) -> str:
    http = requests.Session()
    http.get(f"{web}/accounts/login/", timeout=30)
    response = http.post(
        f"{web}/accounts/login/",
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": http.cookies.get("csrftoken", ""),
        },
        headers={"Referer": f"{web}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login for the drill failed: {response.status_code}")
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def _slow_reader(port, path, cookie, stop, received, index, errors) -> None:
    """GET ``path`` and read it at RATE bytes/s with a small receive window, until ``stop``."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", port))
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        first = sock.recv(512)
        if b" 200 " not in first.split(b"\r\n", 1)[0]:
            errors.append(f"export {path} answered {first[:60]!r}")
            return
        received[index] += len(first)
        while not stop.is_set():
            chunk = sock.recv(RATE // 4)
            if not chunk:
                return  # the whole export arrived: the drill was too small to hold the server
            received[index] += len(chunk)
            time.sleep(0.25)
    except OSError as exc:
        errors.append(f"slow client {index} ({path}): {exc}")
    finally:
        sock.close()


def _poll(web: str, seconds: float) -> list[tuple[float, bool]]:
    """(milliseconds, answered 200) for each poll, alternating /healthz and the login page."""
    results, end, i = [], time.monotonic() + seconds, 0
    http = requests.Session()
    while time.monotonic() < end:
        path = "/healthz" if i % 2 == 0 else "/accounts/login/"
        started = time.perf_counter()
        try:
            ok = http.get(f"{web}{path}", timeout=5).status_code == 200
        except requests.RequestException:
            ok = False
        results.append(((time.perf_counter() - started) * 1000, ok))
        i += 1
        time.sleep(0.2)
    return results
