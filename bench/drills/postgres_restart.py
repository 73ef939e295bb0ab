"""Drill: the PostgreSQL cluster restarts under running jobs (needs root, as in CI)."""

from __future__ import annotations

import subprocess
import time

from bench.drills.context import DrillContext, count, wait_until
from bench.drills.invariants import Result


def run(ctx: DrillContext) -> Result:
    n = 30 if ctx.quick else 100
    r = Result(
        "postgres-restart",
        f"{n} jobs running (ICWS answering in 100 ms) when the PostgreSQL cluster restarts "
        "(pg_ctlcluster restart, a few seconds down)",
        "workers and web reconnect; a task that lost its database retries instead of failing "
        "the move; every job succeeds once",
    )
    cluster = _pg_cluster()
    if cluster is None:
        r.problems.append("no local PostgreSQL cluster to restart (pg_lsclusters)")
        return r
    ctx.stack.start_workers(1)
    ctx.stack.faults(latency_ms=100, paths="allocate-agents")
    seq = ctx.last_seq()
    ids = ctx.submit(ctx.agents(n))
    wait_until(lambda: count(ids, "succeeded") >= n // 4, 60)
    from django.db import connections

    connections.close_all()
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "restart"],
        check=True,
        capture_output=True,
    )
    r.saw.append(f"PostgreSQL restarted in {time.monotonic() - started:.1f} s")
    ctx.check(r, ids, seq, timeout=180)
    ctx.stack.clear_faults()
    ctx.stack.stop_workers()
    return r


def _pg_cluster() -> list[str] | None:
    """The (version, name) of the local cluster on port 5432, or None."""
    try:
        out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in out.stdout.splitlines():
        version, name, port, *_ = line.split()
        if port == "5432":
            return [version, name]
    return None
