"""What every drill checks after the damage: the invariants the job engine promises.

Every job reached a terminal state; no agent's move reached ICWS more often than its job
succeeded plus its audited re-sends (never applied twice in effect); ICWS's membership of every
agent touched equals the dashboard's roster; every job has its `requested` row and exactly one
terminal row in the audit log, and every attempt a `started` row; `verify_audit` is clean.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.drills.stack import wait_terminal

if TYPE_CHECKING:
    from bench.drills.context import DrillContext


@dataclass
class Result:
    """One drill's outcome: what it did, what it expected, what it saw, and any problem."""

    name: str
    did: str
    expected: str
    saw: list[str] = field(default_factory=list)
    submitted: int = 0
    terminal: int = 0
    statuses: dict = field(default_factory=dict)
    applied: int = 0
    resent: int = 0
    agents: int = 0
    agents_consistent: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems


def check_jobs(
    ctx: DrillContext,
    result: Result,
    job_ids: list[int],
    since_seq: int,
    *,
    timeout: float = 180,
    expect: str = "succeeded",
) -> None:
    """Wait for the jobs, then check them against ICWS's move log (moves after ``since_seq``),
    ICWS's membership and the audit log; each broken invariant is a problem on ``result``."""
    all_done, statuses = wait_terminal(job_ids, timeout)
    result.submitted = len(job_ids)
    result.terminal = sum(statuses.get(s, 0) for s in ("succeeded", "failed", "cancelled"))
    result.statuses = dict(statuses)
    if not all_done:
        result.problems.append(f"not terminal after {timeout:.0f} s: {dict(statuses)}")
    if expect and statuses.get(expect, 0) != len(job_ids):
        result.problems.append(f"expected every job {expect}, got {dict(statuses)}")

    time.sleep(0.5)  # the simulator applies a move 10 ms after accepting it
    resent = _check_applied(ctx, result, job_ids, since_seq)
    _check_membership(ctx, result, sorted(resent))
    report = _check_audit(result, job_ids)
    result.saw.append(
        f"{len(job_ids)} submitted, {result.terminal} terminal ({fmt_statuses(statuses)}), "
        f"{result.applied} moves applied by ICWS ({result.resent} audited re-sends), "
        f"ICWS membership = roster for {result.agents_consistent} of {result.agents} "
        "agents, audit chain "
        f"{'intact' if report.ok else 'BROKEN'} ({report.rows} rows)"
    )


def _check_applied(
    ctx: DrillContext, result: Result, job_ids: list[int], since_seq: int
) -> Counter:
    """No agent applied more often than its succeeded jobs plus audited re-sends; returns the
    allowed extra applications per agent (every agent the jobs touched is a key)."""
    from dashboard.allocations.models import AllocationJob
    from dashboard.audit.models import AuditEvent

    moves = ctx.moves_since(since_seq)
    jobs = AllocationJob.objects.filter(pk__in=job_ids)
    # A send cut off by a killed worker is re-sent, and says so in the audit log: that one
    # extra application (same result: allocate-agents sets membership) is explained.
    resent = Counter(
        AuditEvent.objects.filter(
            job_id__in=job_ids, kind="retry", details__outcome_unknown=True
        ).values_list("job_id", flat=True)
    )
    result.resent = sum(resent.values())
    if resent:
        result.saw.append(
            f"{result.resent} batch(es) re-sent because the outcome of a send was unknown "
            f"(worker or database lost mid-call, or a timeout; jobs {sorted(resent)}), each "
            "with its audit row"
        )
    succeeded, allowed_extra = Counter(), Counter()
    for job in jobs:
        for agent in job.agent_ids:
            succeeded[agent] += job.status == "succeeded"
            allowed_extra[agent] += resent[job.pk]
    applied = Counter(a for m in moves for a in m["agentIds"] if a in allowed_extra)
    result.applied = sum(applied.values())
    for agent in allowed_extra:
        if applied[agent] > succeeded[agent] + allowed_extra[agent]:
            result.problems.append(
                f"agent {agent}: applied {applied[agent]}x for {succeeded[agent]} succeeded "
                f"job(s) and {allowed_extra[agent]} audited re-send(s)"
            )
        elif applied[agent] < succeeded[agent]:
            result.problems.append(
                f"agent {agent}: {succeeded[agent]} job(s) succeeded, {applied[agent]} reached ICWS"
            )
    return allowed_extra


def _check_membership(ctx: DrillContext, result: Result, touched: list[str]) -> None:
    """In effect, nothing was applied twice: ICWS's membership of every agent the jobs touched
    is exactly the dashboard's roster (a re-send set the same membership again)."""
    from dashboard.directory.selectors import roster_of

    membership = ctx.stack.sim_state()["membership"]
    roster = roster_of(touched)
    differ = [a for a in touched if set(membership.get(a, [])) != set(roster.get(a, []))]
    result.agents, result.agents_consistent = len(touched), len(touched) - len(differ)
    for agent in differ[:10]:
        result.problems.append(
            f"agent {agent}: ICWS has {sorted(membership.get(agent, []))}, the roster "
            f"{sorted(roster.get(agent, []))}"
        )


def _check_audit(result: Result, job_ids: list[int]):
    """One `requested` and one terminal row per job, a `started` row per attempted job, and an
    intact hash chain; returns the chain report."""
    from dashboard.allocations.models import AllocationJob
    from dashboard.audit.integrity import chain_verify
    from dashboard.audit.models import AuditEvent

    kinds: dict[int, Counter] = defaultdict(Counter)
    for job_id, kind in AuditEvent.objects.filter(job_id__in=job_ids).values_list("job_id", "kind"):
        kinds[job_id][kind] += 1
    for job in AllocationJob.objects.filter(pk__in=job_ids):
        k = kinds[job.pk]
        terminal_rows = k["succeeded"] + k["failed"] + k["cancelled"]
        if k["requested"] != 1 or (job.is_terminal and terminal_rows != 1):
            result.problems.append(f"job {job.pk}: audit rows {dict(k)}")
        elif job.attempts and k["started"] < 1:
            result.problems.append(f"job {job.pk}: {job.attempts} attempts, no started row")
    report = chain_verify()
    if not report.ok:
        result.problems.append(f"verify_audit: {report.problem} at row {report.broken_id}")
    return report


def check_icws_status(result: Result, job_ids: list[int], status: int) -> None:
    """Every job failed with a `failed` audit row carrying ICWS's ``status``."""
    from dashboard.audit.models import AuditEvent

    rows = AuditEvent.objects.filter(job_id__in=job_ids, kind="failed", icws_status=status)
    if rows.count() != len(job_ids):
        result.problems.append(f"{rows.count()} of {len(job_ids)} failed rows carry ICWS {status}")
    else:
        result.saw.append(f"every failed row carries ICWS {status}: {rows.first().icws_message!r}")


def fmt_statuses(statuses: Counter) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none"
