"""The beat's claim and start without a worker (jobs are queued, not run): who moves, missed
runs, paused plans, workgroups resolved at run time, refusals and four-eyes at run time."""

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.allocations.models import AllocationJob
from dashboard.approvals.decide import approve
from dashboard.approvals.models import Approval
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent
from dashboard.plans.models import Plan, PlanRun
from dashboard.plans.run import plans_tick
from dashboard.plans.services import plan_create, plan_pause
from tests.dashboard.plans.conftest import plan_data

pytestmark = pytest.mark.postgres_too
# plan_data's start: 2030-03-29 17:00 Europe/Berlin (CET) = 16:00 UTC.
START = datetime(2030, 3, 29, 16, 0, tzinfo=UTC)


def test_a_run_starts_once_with_the_plan_in_its_job_and_audit(dir_small, mover):
    plan, _ = plan_create(actor=mover, data=plan_data())
    assert plans_tick(START - timedelta(seconds=1)).started == []
    (run_id,) = plans_tick(START + timedelta(seconds=3)).started
    assert plans_tick(START + timedelta(seconds=4)).started == []
    run = PlanRun.objects.get(pk=run_id)
    assert run.plan == plan and run.status == PlanRun.Status.MOVED
    assert run.revert_at == START + timedelta(hours=2)
    job = run.job
    assert job.agent_ids == ["a1", "a2"] and job.requested_by == mover
    assert job.reason == "Plan 'Evening renewals', run of 2030-03-29 17:00 CET"
    assert job.idempotency_key == f"plan-run-{run.pk}"
    row = AuditEvent.objects.get(kind=AuditEvent.Kind.PLAN_RUN)
    assert row.job == job and row.details["run_id"] == run.pk


def test_a_run_found_too_late_is_missed(dir_small, mover, settings):
    settings.PLANS_LATE_GRACE_SECONDS = 600
    plan_create(actor=mover, data=plan_data())
    result = plans_tick(START + timedelta(minutes=11))
    assert result.started == [] and len(result.missed) == 1
    run = PlanRun.objects.get()
    assert run.status == PlanRun.Status.MISSED and "was beat running?" in run.message
    assert not AllocationJob.objects.exists()


def test_a_paused_plan_runs_nothing(dir_small, mover):
    plan, _ = plan_create(actor=mover, data=plan_data())
    plan_pause(actor=mover, plan_id=plan.pk)
    assert plans_tick(START + timedelta(seconds=1)).started == []
    assert not PlanRun.objects.exists()


def test_workgroup_members_are_resolved_at_run_time(dir_small, mover):
    plan_create(actor=mover, data=plan_data(agent_ids=[], workgroup_id="Care", campaign_ids_out=[]))
    late = Agent.objects.create(id="a9", name="Agent 9")
    late.workgroups.add(dir_small["groups"][1])
    plans_tick(START + timedelta(seconds=1))
    assert PlanRun.objects.get().job.agent_ids == ["a3", "a4", "a9"]


def test_agents_moved_since_or_already_there_are_named(dir_small, mover):
    plan_create(actor=mover, data=plan_data(agent_ids=["a1", "a2", "a3"]))
    plans_tick(START + timedelta(seconds=1))
    run = PlanRun.objects.get()
    assert run.job.agent_ids == ["a1", "a2"]
    assert run.skipped == {
        "a3": "moved since: in none of the campaigns the plan moves it out of (now in: no campaign)"
    }


def test_a_creator_without_a_role_any_more_is_refused(dir_small, mover):
    plan_create(actor=mover, data=plan_data())
    mover.groups.clear()
    del mover._dashboard_roles
    plans_tick(START + timedelta(seconds=1))
    run = PlanRun.objects.get()
    assert run.status == PlanRun.Status.REFUSED and "may not move agents" in run.message
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.REFUSED).exists()


def test_an_approved_plan_runs_under_its_approval(dir_small, mover, admin_user_role, settings):
    settings.APPROVAL_REQUIRED_FOR = frozenset({"plan", "large"})
    settings.APPROVAL_THRESHOLD_AGENTS = 1
    plan, _ = plan_create(actor=mover, data=plan_data())
    assert plans_tick(START + timedelta(seconds=1)).started == []  # waiting: nothing runs
    approve(approval_id=plan.approval_id, actor=admin_user_role, reason="fine")
    plans_tick(START + timedelta(seconds=2))
    run = PlanRun.objects.get()
    assert run.status == PlanRun.Status.MOVED, run.message
    assert not Approval.objects.filter(kind=Approval.Kind.MOVE).exists()


def test_a_run_that_would_need_approval_is_not_left_waiting(dir_small, mover, settings):
    settings.APPROVAL_REQUIRED_FOR = frozenset({"large"})
    settings.APPROVAL_THRESHOLD_AGENTS = 2
    plan, _ = plan_create(
        actor=mover, data=plan_data(agent_ids=[], workgroup_id="Sales", campaign_ids_out=[])
    )
    assert plan.status == Plan.Status.ACTIVE  # two agents: not large when created
    extra = Agent.objects.create(id="a8", name="Agent 8")
    extra.workgroups.add(dir_small["groups"][0])
    plans_tick(START + timedelta(seconds=1))
    run = PlanRun.objects.get()
    assert run.status == PlanRun.Status.REFUSED and "four-eyes approval" in run.message
    assert Approval.objects.get().status == Approval.Status.WITHDRAWN
    assert not AllocationJob.objects.exists()
