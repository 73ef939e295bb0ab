"""Drill: beat restarted across a plan's start time, and two beats ticking at once; one run.

A one-off plan (made through /api/plans) starts at the next minute boundary. Beat ticks every
second; it is killed (-9) a few seconds before the start and only started again after it, as
two beats at once (a restarted beat plus a second one an operator forgot). Both publish
``plans_tick_task`` for the same due run; the claim (a unique (plan, scheduled_at) row inserted
in the same transaction as the run's submit) lets exactly one through. A third beat after that
must find nothing to do.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from datetime import UTC, datetime, timedelta

from bench.drills.context import DrillContext
from bench.drills.invariants import Result

TICK_SECONDS = "1"


def run(ctx: DrillContext) -> Result:
    from dashboard.allocations.models import AllocationJob
    from dashboard.audit.models import AuditEvent
    from dashboard.plans.models import PlanRun

    r = Result(
        "beat-restart",
        "a one-off plan for 3 agents starting at the next minute; beat (1 s ticks) killed -9 "
        "3 s before the start; after the start two beats started at once; then a third beat",
        "exactly one run of the plan, one job, one move per agent at ICWS, one PLAN_RUN audit "
        "row; the later beats start nothing",
    )
    stack = ctx.stack
    # Three agents in the same one campaign: one move out of it for all of them.
    pool = ctx.single_campaign_agents(12)
    source = max(
        {ctx.roster[a][0] for a in pool}, key=lambda c: sum(ctx.roster[a] == [c] for a in pool)
    )
    same = [a for a in pool if ctx.roster[a] == [source]][:3]
    target = next(c for c in ctx.campaigns if c != source)
    start = _next_minute(lead_seconds=20)
    seq = ctx.last_seq()
    response = ctx.session.post(
        f"{stack.web}/api/plans",
        json={
            "name": "Drill: beat restart",
            "agent_ids": same,
            "campaign_ids_in": [target],
            "campaign_ids_out": [source],
            "time_zone": "UTC",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
        },
        headers={"Idempotency-Key": f"beat-restart-{start:%H%M}"},
        timeout=30,
    )
    if response.status_code != 201:
        r.problems.append(f"plan not created: {response.status_code} {response.text[:300]}")
        return r
    plan_id = response.json()["id"]
    r.saw.append(f"plan {plan_id} for {len(same)} agents starts at {start:%H:%M:%S} UTC")

    stack.start_workers(1)
    _stop_proc(stack.procs.pop("beat", None), signal.SIGTERM)
    beats = [_beat(stack, "a")]
    _sleep_until(start - timedelta(seconds=3))
    _stop_proc(beats.pop(), signal.SIGKILL)
    early = PlanRun.objects.filter(plan_id=plan_id).count()
    r.saw.append(f"runs before the start, when beat was killed: {early}")
    _sleep_until(start + timedelta(seconds=2))
    beats = [_beat(stack, "b"), _beat(stack, "c")]
    deadline = time.monotonic() + 60
    while not PlanRun.objects.filter(plan_id=plan_id).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(6)  # both beats tick several more times with the run due
    for beat in beats:
        _stop_proc(beat, signal.SIGKILL)
    third = _beat(stack, "d")
    time.sleep(5)
    _stop_proc(third, signal.SIGTERM)
    stack.procs["beat"] = _beat(stack, "main", tick=None)  # the stack's beat, for later drills

    runs = list(PlanRun.objects.filter(plan_id=plan_id))
    jobs = list(AllocationJob.objects.filter(plan_runs__plan_id=plan_id))
    rows = AuditEvent.objects.filter(kind=AuditEvent.Kind.PLAN_RUN, details__plan_id=plan_id)
    r.saw.append(f"runs: {len(runs)}, jobs: {len(jobs)}, PLAN_RUN rows: {rows.count()}")
    if early:
        r.problems.append(f"{early} run(s) before the start time")
    if len(runs) != 1 or len(jobs) != 1:
        r.problems.append(f"expected one run and one job, got {len(runs)} and {len(jobs)}")
    if rows.count() != 1:
        r.problems.append(f"expected one PLAN_RUN audit row, got {rows.count()}")
    if jobs:
        r.saw.append(f"run claimed {(runs[0].claimed_at - start).total_seconds():.1f} s late")
        ctx.check(r, [j.pk for j in jobs], seq, timeout=60)  # one applied move per agent
    stack.stop_workers()
    return r


def _next_minute(lead_seconds: int) -> datetime:
    now = datetime.now(UTC)
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if (start - now).total_seconds() < lead_seconds:
        start += timedelta(minutes=1)
    return start


def _sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def _beat(stack, name: str, tick: str | None = TICK_SECONDS):
    """A beat process with its own schedule file; ``tick`` overrides PLANS_TICK_SECONDS."""
    saved = os.environ.get("PLANS_TICK_SECONDS")
    if tick is not None:
        os.environ["PLANS_TICK_SECONDS"] = tick
    try:
        return stack._popen(stack._celery("beat", "--schedule", str(stack.tmp / f"beat-{name}")))
    finally:
        if saved is None:
            os.environ.pop("PLANS_TICK_SECONDS", None)
        else:
            os.environ["PLANS_TICK_SECONDS"] = saved


def _stop_proc(proc, sig: int) -> None:
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    proc.wait(timeout=20)
