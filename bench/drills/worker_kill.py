"""Drill: kill -9 the only worker with jobs in flight; the sweeper re-queues what it held."""

from __future__ import annotations

import time

from bench.drills.context import DrillContext, count, wait_until
from bench.drills.invariants import Result


def run(ctx: DrillContext) -> Result:
    n = 40 if ctx.quick else 200
    r = Result(
        "worker-kill",
        f"{n} one-agent jobs in flight (ICWS answering in 100 ms), then kill -9 the only "
        "worker and its pool children; restart it 3 s later",
        "every job succeeds exactly once: the sweeper re-queues the jobs the dead worker held "
        "(lease expired) and the ones whose messages it had prefetched",
    )
    ctx.stack.start_workers(1)
    ctx.stack.faults(latency_ms=100, paths="allocate-agents")
    seq = ctx.last_seq()
    ids = ctx.submit(ctx.agents(n))
    wait_until(lambda: count(ids, "succeeded") >= n // 5, 60)
    before = count(ids, "succeeded")
    ctx.stack.kill_workers()
    r.saw.append(f"killed the worker with {before} of {n} jobs succeeded")
    time.sleep(3)
    ctx.stack.start_workers(1)
    ctx.check(r, ids, seq, timeout=240)
    ctx.stack.clear_faults()
    ctx.stack.stop_workers()
    return r
