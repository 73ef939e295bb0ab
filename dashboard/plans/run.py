"""What beat does for plans: claim each due run once, start it as a job, revert it at its end.

``plans_tick(now)`` is the whole of it (the beat task passes the clock, tests pass their own):

1. **Start.** For every active plan, each occurrence between ``runs_from`` (or a day ago) and
   ``now`` is claimed by inserting its ``PlanRun`` (unique on plan and start instant). The insert,
   the job's submit and the run's audit row are one transaction: two beats ticking at once, or a
   beat restarted across the start time, insert the same row and only one commits; a crash before
   the commit leaves nothing, and the next tick claims it again. An occurrence found more than
   ``PLANS_LATE_GRACE_SECONDS`` late (beat was down), or after its own end, is recorded as missed
   instead of moving agents at a time nobody planned.
2. **Who moves.** ``start_selection`` (also the preview of the next runs): the plan's agents now
   (a workgroup's members at run time), less those held by an unfinished job, those already where
   the plan puts them, and, when the plan moves agents out of campaigns, those in none of them
   (moved by someone since). Each one left out is named with why, in the run and its audit row.
3. **Revert.** Once a run's end has come and its job has finished, the job's move is undone with
   the revert rule (``allocations.revert.job_revert_plan``): only agents whose roster is still
   what the job wrote, less those held by another job; the others are named. The claim is a
   conditional status update (moved -> reverting) in the same transaction as the revert's submit.

Jobs are ordinary ``allocations`` jobs requested by the plan's creator (the run is checked against
their role and scope at run time), with the plan's name in their reason (for people: so in every
audit row of theirs) and ``plan-<plan id>-run-<run id>`` as their request id (so in every audit
row's ``request_id``). The structured link is the run's: ``PlanRun.job`` and ``revert_jobs``
(``selectors.plan_run_of_job``, the job page's "Plan" line), and a ``PLAN_RUN`` row linked to the
job whose ``details`` name the plan, the run and the revert jobs. ``AllocationJob`` has no
details field of its own to carry the plan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.allocations.errors import MoveRefused
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.revert import job_revert_plan
from dashboard.allocations.submit import MAX_REASON, job_submit
from dashboard.approvals.decide import withdraw
from dashboard.approvals.errors import ApprovalPending
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Agent
from dashboard.directory.selectors import agent_names, roster_of
from dashboard.plans import schedule
from dashboard.plans.approval import granted_approval
from dashboard.plans.models import Plan, PlanRun

log = logging.getLogger(__name__)
Kind = AuditEvent.Kind
Status = PlanRun.Status
# Occurrences older than this are not looked for at all (a plan paused for weeks, a dead beat).
LOOKBACK = timedelta(days=1)
# A run's audit row names at most this many agents left out (and counts the rest).
LISTED = 50


@dataclass
class StartSelection:
    agent_ids: list[str]
    skipped: dict[str, str] = field(default_factory=dict)  # agent id -> why it is left out
    versions: dict[str, int] = field(default_factory=dict)


@dataclass
class TickResult:
    started: list[int] = field(default_factory=list)  # PlanRun ids claimed by this tick
    reverted: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)


def plans_tick(now: datetime | None = None) -> TickResult:
    now = now or timezone.now()
    result = TickResult()
    active = Plan.objects.filter(status=Plan.Status.ACTIVE)
    for plan in active.select_related("created_by", "approval"):
        after = max(plan.runs_from, now - LOOKBACK)
        for occ in schedule.occurrences(plan, after=after, until=now, limit=50):
            _claim(plan, occ, now, result)
    _revert_due(now, result)
    return result


# -- start -----------------------------------------------------------------------------------------


def agents_of(agent_ids: list[str], workgroup_id: str | None) -> list[str]:
    """Active agents now: the listed ones (in their order), or the workgroup's members."""
    if workgroup_id:
        ids = Agent.objects.filter(active=True, workgroups__id=workgroup_id)
        return sorted(set(ids.values_list("id", flat=True)))
    active = set(Agent.objects.filter(id__in=agent_ids, active=True).values_list("id", flat=True))
    return [a for a in agent_ids if a in active]


def plan_agents(plan: Plan) -> list[str]:
    return agents_of(plan.agent_ids, plan.workgroup_id)


def held_agents(agent_ids: list[str]) -> dict[str, int]:
    """agent id -> the unfinished job that holds it (queued, running or retrying)."""
    wanted = set(agent_ids)
    held: dict[str, int] = {}
    live = AllocationJob.objects.exclude(status__in=AllocationJob.TERMINAL).order_by("pk")
    for job_id, ids in live.values_list("pk", "agent_ids"):
        for agent_id in wanted.intersection(ids):
            held.setdefault(agent_id, job_id)
    return held


def start_selection(plan: Plan) -> StartSelection:
    agents = plan_agents(plan)
    selection = StartSelection(agent_ids=[])
    if not plan.workgroup_id:
        for agent_id in plan.agent_ids:
            if agent_id not in set(agents):
                selection.skipped[agent_id] = "no longer an active agent"
    roster = roster_of(agents)
    held = held_agents(agents)
    ins, outs = set(plan.campaign_ids_in), set(plan.campaign_ids_out)
    for agent_id in agents:
        now_in = set(roster[agent_id])
        if agent_id in held:
            selection.skipped[agent_id] = f"held by job {held[agent_id]}, not finished"
        elif ins <= now_in and not now_in & outs:
            selection.skipped[agent_id] = "already where the plan puts it"
        elif outs and not now_in & outs:
            selection.skipped[agent_id] = (
                "moved since: in none of the campaigns the plan moves it out of (now in: "
                + (", ".join(sorted(now_in)) or "no campaign")
                + ")"
            )
        else:
            selection.agent_ids.append(agent_id)
    selection.versions = dict(
        Agent.objects.filter(id__in=selection.agent_ids).values_list("id", "roster_version")
    )
    return selection


def _claim(plan: Plan, occ: schedule.Occurrence, now: datetime, result: TickResult) -> None:
    late = (now - occ.start).total_seconds()
    missed = late > settings.PLANS_LATE_GRACE_SECONDS or (occ.end is not None and occ.end <= now)
    try:
        with transaction.atomic():
            run = PlanRun.objects.create(
                plan=plan,
                scheduled_at=occ.start,
                revert_at=occ.end,
                plan_revision=plan.revision,
            )
            if missed:
                _record_missed(plan, run, occ, late)
                result.missed.append(run.pk)
            else:
                _start(plan, run, occ)
                result.started.append(run.pk)
    except IntegrityError:
        # Claimed already: by an earlier tick, a second beat, or this beat before a restart.
        return


def _record_missed(plan: Plan, run: PlanRun, occ, late: float) -> None:
    run.status = Status.MISSED
    run.message = (
        f"Not run: found {int(late // 60)} min after its start time "
        f"(more than PLANS_LATE_GRACE_SECONDS={settings.PLANS_LATE_GRACE_SECONDS:g} s late; "
        "was beat running?)"
    )
    run.save(update_fields=["status", "message"])
    _audit_run(plan, run, occ, run.message, phase="start")


def _start(plan: Plan, run: PlanRun, occ) -> None:
    selection = start_selection(plan)
    run.skipped = selection.skipped
    left_out = _left_out_text(selection.skipped)
    if not selection.agent_ids:
        run.status = Status.NOTHING
        run.message = "Nothing to move" + left_out
        run.save(update_fields=["status", "message", "skipped"])
        _audit_run(plan, run, occ, run.message, phase="start")
        return
    run_request = f"plan-{plan.pk}-run-{run.pk}"
    reason = f"Plan {plan.name!r}, run of {_local(occ.local_start)}"
    if plan.reason:
        reason += f": {plan.reason}"
    try:
        job, _ = job_submit(
            actor=plan.created_by,
            agent_ids=selection.agent_ids,
            campaign_ids_in=plan.campaign_ids_in,
            campaign_ids_out=plan.campaign_ids_out,
            reason=reason[:MAX_REASON],
            idempotency_key=f"plan-run-{run.pk}",
            # What the run read: a move in between is a conflict, not overwritten.
            expected_versions=selection.versions,
            request_id=run_request,
            approval=granted_approval(plan),
        )
    except ApprovalPending as exc:
        # The move now needs four-eyes approval the plan was not given (a workgroup grew past
        # the threshold): a move approved later would run at an hour nobody planned, with no
        # revert, so the request is withdrawn and the run says why.
        withdraw(approval_id=exc.approval.pk, actor=plan.created_by, request_id=run_request)
        run.status = Status.REFUSED
        run.message = (
            f"Not run: the move now needs four-eyes approval ({exc.approval.needs_text}); "
            "edit the plan to ask for it" + left_out
        )
        run.save(update_fields=["status", "message", "skipped"])
        _audit_run(plan, run, occ, run.message, phase="start")
        return
    except MoveRefused as exc:  # the refusal's own audit row is written by the submit
        run.status = Status.REFUSED
        run.message = f"Not run: {exc.message}" + left_out
        run.save(update_fields=["status", "message", "skipped"])
        _audit_run(plan, run, occ, run.message, phase="start")
        return
    run.job = job
    run.status = Status.MOVED
    run.message = f"Moving {len(selection.agent_ids)} agent(s) (job {job.pk})" + left_out
    run.save(update_fields=["job", "status", "message", "skipped"])
    _audit_run(plan, run, occ, run.message, phase="start", job=job)


# -- revert ----------------------------------------------------------------------------------------


def _revert_due(now: datetime, result: TickResult) -> None:
    due = PlanRun.objects.filter(
        status=Status.MOVED, revert_at__lte=now, job__status__in=AllocationJob.TERMINAL
    ).select_related("plan__created_by", "plan__approval", "job")
    for run in due:
        with transaction.atomic():
            # The claim: only one tick moves a run from moved to reverting.
            if not PlanRun.objects.filter(pk=run.pk, status=Status.MOVED).update(
                status=Status.REVERTING
            ):
                continue
            _revert(run)
            result.reverted.append(run.pk)


def _revert(run: PlanRun) -> None:
    plan, job = run.plan, run.job
    occ = _claimed_times(run)
    if job.status != AllocationJob.Status.SUCCEEDED:
        _finish_revert(run, f"Nothing to revert: job {job.pk} {job.status}", {}, occ)
        return
    revert = job_revert_plan(job_id=job.pk)
    left_alone = dict(revert.left_alone)
    held = held_agents([a for g in revert.groups for a in g.agent_ids])
    for agent_id, job_id in held.items():
        left_alone[agent_id] = f"held by job {job_id}, not finished"
    versions = dict(
        Agent.objects.filter(id__in=[a for g in revert.groups for a in g.agent_ids]).values_list(
            "id", "roster_version"
        )
    )
    reverts = []
    try:
        for index, group in enumerate(revert.groups):
            agents = [a for a in group.agent_ids if a not in held]
            if not agents:
                continue
            revert_job, _ = job_submit(
                actor=plan.created_by,
                agent_ids=agents,
                campaign_ids_in=group.campaign_ids_in,
                campaign_ids_out=group.campaign_ids_out,
                reason=f"Revert of job {job.pk}: end of plan {plan.name!r}"[:MAX_REASON],
                idempotency_key=f"plan-run-{run.pk}-revert-{index}",
                expected_versions={a: versions[a] for a in agents},
                request_id=f"plan-{plan.pk}-run-{run.pk}",
                revert_of=job,
                approval=granted_approval(plan),
            )
            reverts.append(revert_job)
    except MoveRefused as exc:
        message = f"Revert not queued: {exc.message}"
    else:
        count = sum(len(j.agent_ids) for j in reverts)
        jobs = ", ".join(str(j.pk) for j in reverts)
        message = f"Reverting {count} agent(s) (job {jobs})" if reverts else "Nothing to revert"
    if reverts:
        run.revert_jobs.add(*reverts)
    _finish_revert(
        run,
        message + _left_out_text(left_alone, "left alone"),
        left_alone,
        occ,
        revert_job_ids=[j.pk for j in reverts],
    )


def _finish_revert(
    run: PlanRun, message: str, left_alone: dict, occ, *, revert_job_ids: list[int] | None = None
) -> None:
    run.status = Status.DONE
    run.revert_left_alone = left_alone
    run.reverted_at = timezone.now()
    run.message = f"{run.message}. End: {message}"
    run.save(update_fields=["status", "revert_left_alone", "reverted_at", "message"])
    _audit_run(
        run.plan,
        run,
        occ,
        message,
        phase="end",
        job=run.job,
        left=left_alone,
        revert_job_ids=revert_job_ids,
    )


# -- words and audit -------------------------------------------------------------------------------


def _claimed_times(run: PlanRun) -> schedule.Occurrence:
    """The run's times as claimed (an edit since does not change a run under way)."""
    tz = schedule.zone(run.plan.time_zone)
    end = run.revert_at
    return schedule.Occurrence(
        start=run.scheduled_at,
        end=end,
        local_start=run.scheduled_at.astimezone(tz),
        local_end=end.astimezone(tz) if end else None,
    )


def _local(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()}"


def _left_out_text(skipped: dict[str, str], verb: str = "left out") -> str:
    if not skipped:
        return ""
    shown = list(skipped.items())[:10]
    names = agent_names([a for a, _ in shown])  # names, not ids: the message is read by people
    listed = [f"{names.get(a, a)} ({why})" for a, why in shown]
    more = len(skipped) - len(listed)
    return f"; {verb}: " + "; ".join(listed) + (f" and {more} more" if more > 0 else "")


def _audit_run(
    plan: Plan,
    run: PlanRun,
    occ,
    message: str,
    *,
    phase: str,
    job=None,
    left=None,
    revert_job_ids: list[int] | None = None,
):
    skipped = run.skipped if phase == "start" else (left or {})
    listed = dict(list(skipped.items())[:LISTED])
    audit_record(
        kind=Kind.PLAN_RUN,
        actor=plan.created_by,
        job=job,
        agent_ids=None if job is not None else list(skipped)[:LISTED] or plan.agent_ids[:LISTED],
        campaign_ids_in=None if job is not None else plan.campaign_ids_in,
        campaign_ids_out=None if job is not None else plan.campaign_ids_out,
        reason=None if job is not None else plan.reason,
        message=f"Plan {plan.name!r} {'start' if phase == 'start' else 'end'} "
        f"({_local(occ.local_start if phase == 'start' else occ.local_end)}): {message}",
        request_id=f"plan-{plan.pk}-run-{run.pk}",
        details={
            "plan_id": plan.pk,
            "plan_name": plan.name,
            "plan_revision": run.plan_revision,
            "run_id": run.pk,
            "phase": phase,
            "scheduled_at": run.scheduled_at.isoformat(),
            "left_out": listed,
            **({"left_out_count": len(skipped)} if len(skipped) > LISTED else {}),
            # The jobs by number, not only in the message: the run's start job is the row's job.
            **({"revert_job_ids": revert_job_ids} if revert_job_ids else {}),
        },
    )
