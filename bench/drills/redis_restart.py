"""Drill: Redis lost with its queue, and submits while it is down; the sweeper re-publishes."""

from __future__ import annotations

from bench.drills.context import DrillContext
from bench.drills.invariants import Result


def run(ctx: DrillContext) -> Result:
    n = 20 if ctx.quick else 60
    r = Result(
        "redis-restart",
        f"no worker running; {n} jobs submitted (their messages wait in Redis); Redis killed "
        "(no persistence: the queue is lost) and started again; then 10 more jobs submitted "
        "while Redis is down; then a worker started",
        "every submit still answers 202 (the job is committed even when the broker is down); "
        "the sweeper re-publishes the lost and unpublished jobs; every job succeeds once",
    )
    seq = ctx.last_seq()
    ids = ctx.submit(ctx.agents(n))
    ctx.stack.stop_redis()
    down = ctx.submit(ctx.agents(10))
    r.saw.append(f"10 submits while Redis was down answered 202 (jobs {down[0]}..{down[-1]})")
    ctx.stack.start_redis()
    ctx.stack.start_workers(1)
    ctx.check(r, ids + down, seq, timeout=120)
    ctx.stack.stop_workers()
    return r
