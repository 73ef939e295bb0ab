"""Drills: ICWS misbehaving through /sim/faults (500 storm, 503 switchover, licence off, 5 s
latency, sessions expiring every 2 s) and the simulator process down for a while."""

from __future__ import annotations

import threading
import time

from bench.drills.context import DrillContext
from bench.drills.invariants import Result, check_icws_status


def _storms(n: int) -> list[tuple[str, str, str, dict, str, int]]:
    """(name, did, expected, faults, every job's expected status, jobs)."""
    return [
        (
            "icws-500-storm",
            f"{n} jobs while 30% of allocate-agents calls answer 500",
            "transient errors retried with backoff; every job succeeds once",
            {"status": 500, "rate": 0.3, "paths": "allocate-agents"},
            "succeeded",
            n,
        ),
        (
            "icws-503-switchover",
            f"{n // 2} jobs after every session is ended and 127.0.0.1 answers connect with "
            "503 naming localhost as the alternate host",
            "the client reconnects through the alternate host; every job succeeds once",
            {
                "expire_sessions": True,
                "connect_503": {
                    "count": None,
                    "hosts": ["127.0.0.1"],
                    "alternate_hosts": ["localhost"],
                },
            },
            "succeeded",
            n // 2,
        ),
        (
            "icws-licence-off",
            f"{n // 2} jobs while the Dialer licence is off (403)",
            "each job fails at once with the ICWS message; nothing is applied",
            {"licence": False},
            "failed",
            n // 2,
        ),
        (
            "icws-5s-latency",
            "8 jobs while allocate-agents takes 5 s (client timeout 10 s)",
            "slow but successful; no retry, so nothing is applied twice",
            {"latency_ms": 5000, "paths": "allocate-agents"},
            "succeeded",
            8,
        ),
    ]


def run(ctx: DrillContext) -> list[Result]:
    results = []
    ctx.stack.start_workers(2)
    n = 20 if ctx.quick else 60
    for name, did, expected, faults, expect, jobs in _storms(n):
        r = Result(name, did, expected)
        started = time.monotonic()
        seq = ctx.last_seq()
        ctx.stack.faults(**faults)
        ids = ctx.submit(ctx.agents(jobs))
        ctx.check(r, ids, seq, timeout=180, expect=expect)
        ctx.stack.clear_faults()
        if name == "icws-licence-off":
            check_icws_status(r, ids, 403)
        r.seconds = time.monotonic() - started
        results.append(r)

    results.append(_session_expiry(ctx, n))
    results.append(_simulator_down(ctx))
    ctx.stack.stop_workers()
    return results


def _session_expiry(ctx: DrillContext, n: int) -> Result:
    r = Result(
        "icws-sessions-expiring",
        f"{n} jobs while every ICWS session is ended every 2 s for 20 s",
        "the client reconnects on 401 and repeats the call once; every job succeeds once",
    )
    seq = ctx.last_seq()
    stop = threading.Event()

    def expire():
        while not stop.wait(2):
            ctx.stack.faults(expire_sessions=True)

    thread = threading.Thread(target=expire, daemon=True)
    thread.start()
    ids = []
    for agent in ctx.agents(n):
        ids.append(ctx.submit([agent])[0])
        time.sleep(20 / n)
    stop.set()
    thread.join()
    ctx.check(r, ids, seq, timeout=120)
    return r


def _simulator_down(ctx: DrillContext) -> Result:
    n = 10 if ctx.quick else 30
    down_for = 10 if ctx.quick else 30
    r = Result(
        "icws-down",
        f"the simulator process killed; {n} jobs submitted; {down_for} s later started again "
        "(its sessions and state are gone)",
        "connection errors retried with capped backoff; after the restart the client "
        "reconnects; every job succeeds once",
    )
    ctx.stack.stop_sim()
    ids = ctx.submit(ctx.agents(n))
    time.sleep(down_for)
    ctx.stack.start_sim()
    r.saw.append(f"simulator down for {down_for} s, then back")
    ctx.check(r, ids, 0, timeout=180)  # a new simulator: its move log starts empty
    return r
