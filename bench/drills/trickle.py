"""Drill: ICWS answers allocate-agents with its status line, then trickles the body a byte a
second (51 bytes: longer than the lease). Issue 14: before the overall deadline and the fenced
lease, the sweeper gave such a job to a second worker, which sent it again; two "succeeded" rows
and an audit that said "worker stopped answering"."""

from __future__ import annotations

from collections import Counter

from bench.drills.context import DrillContext
from bench.drills.invariants import Result
from bench.drills.stack import DRILL_SETTINGS


def run(ctx: DrillContext) -> Result:
    n = 3 if ctx.quick else 6
    lease = DRILL_SETTINGS["ALLOCATION_LEASE_SECONDS"]
    r = Result(
        "trickle",
        f"{n} one-agent jobs while ICWS sends allocate-agents' 202 at once and then its body one "
        f"byte a second (51 s of body; lease {lease} s, ICWS_TIMEOUT "
        f"{DRILL_SETTINGS['ICWS_TIMEOUT']} s)",
        "the 202 is the answer: one send per job, one succeeded row per job, no takeover and "
        "no refused write; ICWS membership = roster",
    )
    ctx.stack.start_workers(1)
    ctx.stack.faults(trickle={"interval_ms": 1000, "paths": "allocate-agents"})
    seq = ctx.last_seq()
    ids = ctx.submit(ctx.agents(n))
    ctx.check(r, ids, seq, timeout=120 + 15 * n)
    ctx.stack.clear_faults()
    ctx.stack.stop_workers()
    _check_once(ctx, r, ids, seq)
    return r


def _check_once(ctx: DrillContext, r: Result, ids: list[int], seq: int) -> None:
    from dashboard.allocations.models import AllocationJob
    from dashboard.audit.models import AuditEvent

    agent_of = {j.pk: j.agent_ids[0] for j in AllocationJob.objects.filter(pk__in=ids)}
    sends = Counter(a for m in ctx.moves_since(seq) for a in m["agentIds"])
    twice = [j for j, a in agent_of.items() if sends[a] != 1]
    if twice:
        r.problems.append(f"jobs not sent exactly once: {twice} ({dict(sends)})")
    rows = AuditEvent.objects.filter(job_id__in=ids)
    succeeded = Counter(rows.filter(kind="succeeded").values_list("job_id", flat=True))
    if any(succeeded[j] != 1 for j in ids):
        r.problems.append(f"succeeded rows per job: {dict(succeeded)}")
    takeovers = rows.filter(kind="retry").count()
    if takeovers:
        r.problems.append(
            f"{takeovers} retry/takeover rows: "
            + "; ".join(rows.filter(kind="retry").values_list("message", flat=True)[:3])
        )
    r.saw.append(
        f"{sum(sends[a] for a in agent_of.values())} sends for {len(ids)} jobs, "
        f"{sum(succeeded.values())} succeeded rows, {takeovers} takeover/retry rows"
    )
