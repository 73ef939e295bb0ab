"""A plan's jobs carry the plan in structure, not only in their reason text: the job page names
the plan (from ``PlanRun.job`` and ``revert_jobs``), and the run's end row lists its revert jobs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import RosterEntry
from dashboard.plans.models import PlanRun
from dashboard.plans.run import plans_tick
from dashboard.plans.selectors import plan_run_of_job
from dashboard.plans.services import plan_create
from tests.dashboard.plans.conftest import plan_data

pytestmark = pytest.mark.postgres_too
START = datetime(2030, 3, 29, 16, 0, tzinfo=UTC)  # plan_data's 17:00 Europe/Berlin


def _succeed(job: AllocationJob) -> None:
    """What a worker leaves after moving a1 and a2 from {C1} to {C2}."""
    RosterEntry.objects.filter(agent_id__in=job.agent_ids).delete()
    for agent_id in job.agent_ids:
        RosterEntry.objects.create(agent_id=agent_id, campaign_id="{C2}")
    job.status = AllocationJob.Status.SUCCEEDED
    job.save(update_fields=["status"])
    audit_record(
        kind=AuditEvent.Kind.SUCCEEDED,
        job=job,
        roster_before={a: ["{C1}"] for a in job.agent_ids},
        roster_after={a: ["{C2}"] for a in job.agent_ids},
        message="moved",
    )


def _plan_line(client, job) -> str | None:
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    found = re.search(r"<dd data-job-plan=\"(\d+)\">(.*?)</dd>", page, re.S)
    return found and (found.group(1), found.group(2))


def test_the_start_and_revert_jobs_name_their_plan_on_the_job_page(client, dir_small, mover):
    plan, _ = plan_create(actor=mover, data=plan_data(name="Evening <renewals>"))
    (run_id,) = plans_tick(START + timedelta(seconds=3)).started
    run = PlanRun.objects.get(pk=run_id)
    job = run.job
    assert job.reason == "Plan 'Evening <renewals>', run of 2030-03-29 17:00 CET"  # still read
    _succeed(job)
    assert plans_tick(START + timedelta(hours=2, seconds=5)).reverted == [run.pk]
    (revert,) = run.revert_jobs.all()
    assert revert.revert_of == job

    assert plan_run_of_job(job) == run and plan_run_of_job(revert) == run
    client.force_login(mover)
    client.cookies["tz"] = "Asia/Tokyo"
    tokyo = START.astimezone(ZoneInfo("Asia/Tokyo"))
    plan_id, line = _plan_line(client, job)
    assert plan_id == str(plan.pk)
    assert line.startswith(
        f'<a href="{reverse("plan-detail", args=[plan.pk])}">Evening &lt;renewals&gt;</a>: its run'
    )
    assert f"{tokyo:%Y-%m-%d %H:%M} JST</time>" in line
    plan_id, line = _plan_line(client, revert)
    assert plan_id == str(plan.pk) and "the end of its run of" in line

    end_row = AuditEvent.objects.filter(kind=AuditEvent.Kind.PLAN_RUN, job=job).latest("id")
    assert end_row.details["phase"] == "end"
    assert end_row.details["revert_job_ids"] == [revert.pk]
    assert end_row.details["plan_id"] == plan.pk and end_row.details["run_id"] == run.pk


def test_a_job_no_plan_made_has_no_plan_line(client, dir_small, mover):
    job = AllocationJob.objects.create(
        requested_by=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"], reason="Plan 'x'"
    )
    assert plan_run_of_job(job) is None
    client.force_login(mover)
    assert _plan_line(client, job) is None  # a reason that looks like a plan's is not one
