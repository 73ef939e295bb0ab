"""Plans run by the beat task with the clock in the test's hands, jobs run by a real worker.

``plans_tick_task(now=...)`` is called with the instant the test wants (never slept through);
the moves it queues are executed by the real Celery worker against the simulator over HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.allocations.models import AllocationJob
from dashboard.allocations.submit import job_submit
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent
from dashboard.directory.selectors import roster_of
from dashboard.plans.models import PlanRun
from dashboard.plans.services import plan_create
from dashboard.plans.tasks import plans_tick_task
from tests.integration.conftest import pick_move, wait_for, wait_terminal


def tick(moment: datetime) -> dict:
    return plans_tick_task(now=moment.isoformat())


def one_off(user, agents, source, target, *, start, end=None, name="Evening renewals"):
    data = {
        "name": name,
        "agent_ids": agents,
        "campaign_ids_in": [target],
        "campaign_ids_out": [source],
        "time_zone": "UTC",
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end_time": end.strftime("%H:%M") if end else None,
        "end_next_day": bool(end and end.date() > start.date()),
    }
    plan, created = plan_create(actor=user, data=data)
    assert created
    return plan


def future_minute(hours: int = 1) -> datetime:
    moment = datetime.now(UTC) + timedelta(hours=hours)
    return moment.replace(second=0, microsecond=0)


def run_job(run: PlanRun) -> AllocationJob:
    run.refresh_from_db()
    assert run.job is not None, run.message
    return wait_terminal(run.job)


def revert_jobs(run: PlanRun) -> list[AllocationJob]:
    run.refresh_from_db()
    return [wait_terminal(job) for job in run.revert_jobs.order_by("pk")]


def test_one_off_plan_moves_then_reverts(directory, worker, supervisor):
    agents, source, target = pick_move(directory, count=2)
    start = future_minute()
    plan = one_off(supervisor, agents, source, target, start=start, end=start + timedelta(hours=2))

    assert tick(start - timedelta(seconds=30))["started"] == []
    started = tick(start + timedelta(seconds=5))["started"]
    assert len(started) == 1
    run = PlanRun.objects.get(pk=started[0])
    assert run.plan == plan and run.scheduled_at == start
    job = run_job(run)
    assert job.status == AllocationJob.Status.SUCCEEDED
    assert job.requested_by == supervisor and "Evening renewals" in job.reason
    for agent in agents:
        assert target in roster_of([agent])[agent] and source not in roster_of([agent])[agent]
    row = AuditEvent.objects.get(kind=AuditEvent.Kind.PLAN_RUN, job=job)
    assert row.details["plan_id"] == plan.pk and row.details["plan_name"] == "Evening renewals"
    assert row.details["phase"] == "start"

    assert tick(start + timedelta(hours=1))["reverted"] == []  # not the end yet
    assert tick(start + timedelta(hours=2, seconds=5))["reverted"] == [run.pk]
    (revert,) = revert_jobs(run)
    assert revert.status == AllocationJob.Status.SUCCEEDED and revert.revert_of == job
    for agent in agents:
        assert source in roster_of([agent])[agent] and target not in roster_of([agent])[agent]
    run.refresh_from_db()
    assert run.status == PlanRun.Status.DONE and run.revert_left_alone == {}
    end_row = AuditEvent.objects.filter(kind=AuditEvent.Kind.PLAN_RUN, job=job).latest("id")
    assert end_row.details["phase"] == "end" and "Reverting 2 agent(s)" in end_row.message
    # Later ticks do nothing more: the run and its revert happened once.
    assert tick(start + timedelta(hours=3)) == {"started": [], "reverted": [], "missed": []}


def test_revert_leaves_an_agent_moved_by_someone_else(directory, worker, supervisor):
    agents, source, target = pick_move(directory, count=2)
    moved, kept = agents
    start = future_minute()
    one_off(supervisor, agents, source, target, start=start, end=start + timedelta(hours=1))
    (run_id,) = tick(start + timedelta(seconds=1))["started"]
    run = PlanRun.objects.get(pk=run_id)
    assert run_job(run).status == AllocationJob.Status.SUCCEEDED

    # Someone else takes one of them out of the target meanwhile.
    other, _ = job_submit(
        actor=supervisor, agent_ids=[moved], campaign_ids_out=[target], reason="drift"
    )
    assert wait_terminal(other).status == AllocationJob.Status.SUCCEEDED

    tick(start + timedelta(hours=1, seconds=1))
    (revert,) = revert_jobs(run)
    assert revert.agent_ids == [kept]
    assert source in roster_of([kept])[kept]
    assert target not in roster_of([moved])[moved]
    assert source not in roster_of([moved])[moved]  # not put back: someone moved it since
    run.refresh_from_db()
    assert "moved since" in run.revert_left_alone[moved]
    name = Agent.objects.get(pk=moved).name
    assert f"left alone: {name} (moved since" in run.message  # names, not ids


def test_run_colliding_with_a_running_job_moves_the_rest(directory, worker, supervisor, simulator):
    agents, source, target = pick_move(directory, count=2)
    busy, free = agents
    # A job of someone else's holds one agent: its send takes 4 s at the simulator.
    simulator.set_faults(latency_ms=4000, count=1, paths="allocate-agents")
    holder, _ = job_submit(
        actor=supervisor, agent_ids=[busy], campaign_ids_in=[target], reason="held"
    )
    wait_for(
        lambda: AllocationJob.objects.get(pk=holder.pk).status == AllocationJob.Status.RUNNING,
        what="the holding job to run",
    )
    start = future_minute()
    one_off(supervisor, agents, source, target, start=start)
    (run_id,) = tick(start + timedelta(seconds=1))["started"]
    run = PlanRun.objects.get(pk=run_id)
    assert run.skipped == {busy: f"held by job {holder.pk}, not finished"}
    job = run_job(run)
    assert job.agent_ids == [free] and job.status == AllocationJob.Status.SUCCEEDED
    assert f"held by job {holder.pk}" in run.message
    row = AuditEvent.objects.get(kind=AuditEvent.Kind.PLAN_RUN, job=job)
    assert row.details["left_out"] == {busy: f"held by job {holder.pk}, not finished"}
    wait_terminal(holder)


def test_run_claim_is_idempotent(directory, worker, supervisor):
    agents, source, target = pick_move(directory, count=1)
    start = future_minute()
    one_off(supervisor, agents, source, target, start=start)
    first = tick(start + timedelta(seconds=1))
    # A second beat ticking at the same moment, and the same beat after a restart.
    again = tick(start + timedelta(seconds=1))
    later = tick(start + timedelta(seconds=40))
    assert len(first["started"]) == 1 and again["started"] == [] and later["started"] == []
    assert PlanRun.objects.count() == 1
    run = PlanRun.objects.get()
    assert run_job(run).status == AllocationJob.Status.SUCCEEDED
    assert AllocationJob.objects.filter(reason__contains="Evening renewals").count() == 1


@pytest.mark.parametrize(
    ("zone", "before", "after", "utc_before", "utc_after"),
    [
        # Europe/Berlin goes to summer time on Sunday 2027-03-28: 17:00 is 16:00 UTC, then 15:00.
        ("Europe/Berlin", "2027-03-26", "2027-03-29", "16:00", "15:00"),
        # America/New_York on Sunday 2027-03-14: 17:00 is 22:00 UTC, then 21:00.
        ("America/New_York", "2027-03-12", "2027-03-15", "22:00", "21:00"),
    ],
)
def test_weekday_recurrence_across_dst(
    directory, worker, supervisor, zone, before, after, utc_before, utc_after
):
    agents, source, target = pick_move(directory, count=1)
    plan, _ = plan_create(
        actor=supervisor,
        data={
            "name": f"Weekday evenings {zone}",
            "agent_ids": agents,
            "campaign_ids_in": [target],
            "campaign_ids_out": [source],
            "time_zone": zone,
            "start": f"{before}T17:00",
            "end_time": "18:00",
            "repeat": "weekdays",
            "weekdays": [0, 1, 2, 3, 4],
            "until": after,
        },
    )
    for day, utc in ((before, utc_before), (after, utc_after)):
        start = datetime.fromisoformat(f"{day}T{utc}:00+00:00")
        assert tick(start - timedelta(minutes=1))["started"] == [], f"{day}: too early"
        (run_id,) = tick(start + timedelta(seconds=5))["started"]
        run = PlanRun.objects.get(pk=run_id)
        assert run.scheduled_at == start and run.revert_at == start + timedelta(hours=1)
        assert run_job(run).status == AllocationJob.Status.SUCCEEDED
        assert target in roster_of(agents)[agents[0]]
        assert tick(start + timedelta(hours=1, seconds=5))["reverted"] == [run.pk]
        (revert,) = revert_jobs(run)
        assert revert.status == AllocationJob.Status.SUCCEEDED
        assert source in roster_of(agents)[agents[0]]
    assert plan.runs.count() == 2
    # Until the last date: nothing after it.
    assert (
        tick(datetime.fromisoformat(f"{after}T23:59:00+00:00") + timedelta(days=1))["started"] == []
    )
