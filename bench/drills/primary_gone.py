"""Drill: the primary ICWS host is gone (its port closed, no 503); moves keep going through the
alternate listed in ICWS_ALTERNATE_HOSTS (a second simulator on 127.0.0.2, same port)."""

from __future__ import annotations

import sys
import time

import requests

from bench._sim import wait_http
from bench.drills.context import DrillContext, count, wait_until
from bench.drills.invariants import Result
from bench.drills.stack import _stop, wait_terminal

ALTERNATE = "127.0.0.2"


def run(ctx: DrillContext) -> Result:
    from dashboard.presence.selectors import listener_health

    n = 20 if ctx.quick else 60
    stack = ctx.stack
    alternate = f"http://{ALTERNATE}:{stack.sim_port}"
    r = Result(
        "primary-gone",
        f"{n} one-agent jobs (ICWS answering in 100 ms); a second simulator on {ALTERNATE} "
        "(listed in ICWS_ALTERNATE_HOSTS); kill -9 the primary simulator a quarter of the way",
        "every job succeeds: calls that reached no server reconnect through the listed "
        "alternate; the alternate logs the rest of the moves; the listener moves there too",
    )
    stack._spawn(
        "sim-alt",
        [
            sys.executable,
            "-m",
            "icws_client.simulator",
            "--host",
            ALTERNATE,
            "--port",
            str(stack.sim_port),
            "--generate",
            "1500,20",
            "--apply-delay",
            "0.01",
            "--log-level",
            "ERROR",
        ],
    )
    wait_http(f"{alternate}/icws/connection/features")
    requests.post(
        f"{alternate}/sim/faults", json={"latency_ms": 100, "paths": "allocate-agents"}, timeout=10
    ).raise_for_status()
    try:
        stack.start_workers(1)
        stack.faults(latency_ms=100, paths="allocate-agents")
        ids = ctx.submit(ctx.agents(n))
        wait_until(lambda: count(ids, "succeeded") >= n // 4, 60)
        before = count(ids, "succeeded")
        stack.stop_sim()
        r.saw.append(f"killed the primary with {before} of {n} jobs succeeded")
        killed = time.monotonic()
        done, statuses = wait_terminal(ids, 180)
        r.submitted, r.terminal, r.statuses = n, sum(statuses.values()), dict(statuses)
        if not done or statuses.get("succeeded", 0) != n:
            r.problems.append(f"not every job succeeded: {dict(statuses)}")
        alt_moves = requests.get(f"{alternate}/sim/moves", timeout=10).json()
        r.applied = len(alt_moves)
        r.saw.append(
            f"{len(alt_moves)} moves applied by the alternate; all terminal "
            f"{time.monotonic() - killed:.1f} s after the kill"
        )
        if not alt_moves:
            r.problems.append("the alternate applied no move: no failover happened")
        wait_until(lambda: listener_health().ok and listener_health().reconnects >= 1, 30)
        health = listener_health()
        if health.ok:
            r.saw.append(f"listener live again ({health.reconnects} reconnect(s))")
        else:
            r.problems.append(f"the listener did not come back on the alternate: {health}")
    finally:
        stack.stop_workers()
        _stop(stack.procs.pop("sim-alt"))
        if "sim" not in stack.procs:
            stack.start_sim()  # later drills use the primary again (a fresh world)
    return r
