"""The job page of a move that went through four-eyes approval names who approved it and when,
in the viewer's time zone; a job nobody approved says nothing of approval."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from dashboard.allocations import submit
from dashboard.allocations.models import AllocationJob
from dashboard.approvals.decide import approve
from dashboard.approvals.models import Approval
from dashboard.plans.models import PlanRun
from dashboard.plans.run import plans_tick
from dashboard.plans.services import plan_create, plan_update
from tests.dashboard.api.conftest import token_for
from tests.dashboard.conftest import user_with_role
from tests.dashboard.plans.conftest import plan_data

pytestmark = pytest.mark.postgres_too


@pytest.fixture(autouse=True)
def four_eyes(settings):
    settings.APPROVAL_REQUIRED_FOR = frozenset({"large"})
    settings.APPROVAL_THRESHOLD_AGENTS = 1
    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True):
        yield settings


@pytest.fixture
def second(django_user_model):
    user = user_with_role(django_user_model, "second", "supervisor")
    user.first_name, user.last_name = "Sam", "<Second>"
    user.save()
    return user


def _held_move(client, user, agent_ids):
    body = {"agent_ids": agent_ids, "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]}
    headers = {"Authorization": f"Token {token_for(user)}"}
    return client.post("/api/allocations", body, content_type="application/json", headers=headers)


def test_the_job_page_says_who_approved_it_and_when_in_the_viewers_zone(
    client, mover, second, dir_small
):
    assert _held_move(client, mover, ["a1", "a2"]).status_code == 202
    approval = Approval.objects.get()
    client.force_login(second)
    done = client.post(reverse("approval-approve", args=[approval.pk]), {"reason": "cover <ok>"})
    assert done.status_code == 302
    approval.refresh_from_db()
    client.force_login(mover)
    client.cookies["tz"] = "Asia/Tokyo"  # the viewer's zone, as dashboard.js stores it
    page = client.get(reverse("job-detail", args=[approval.job_id])).content.decode()
    line = re.search(r"<dd data-job-approved-by>(.*?)</dd>", page, re.S).group(1)
    tokyo = approval.decided_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert line.startswith(
        f'Approved by Sam &lt;Second&gt; at <time datetime="{tokyo.isoformat()}">'
        f"{tokyo:%Y-%m-%d %H:%M:%S} JST</time>"
    )
    assert "“cover &lt;ok&gt;”" in line  # the approver's reason, escaped
    assert reverse("approval-detail", args=[approval.pk]) in line


def test_a_job_nobody_approved_says_nothing_of_approval(client, mover, dir_small, settings):
    settings.APPROVAL_REQUIRED_FOR = frozenset()
    assert _held_move(client, mover, ["a1"]).status_code == 202
    job = AllocationJob.objects.get()
    assert not Approval.objects.exists()
    client.force_login(mover)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "data-job-approved-by" not in page and "Approved by" not in page


def test_a_plan_runs_job_names_the_plans_approver(client, mover, second, dir_small, settings):
    """A plan's approval names no job: the run's job is found by the approval its REQUESTED row
    records, and still is after the plan is edited (the new revision asks anew)."""
    settings.APPROVAL_REQUIRED_FOR = frozenset({"plan"})
    plan, _ = plan_create(actor=mover, data=plan_data())
    granted = plan.approval_id
    approve(approval_id=granted, actor=second, reason="")
    plans_tick(datetime(2030, 3, 29, 16, 0, 2, tzinfo=UTC))
    job = PlanRun.objects.get().job
    assert job is not None and not Approval.objects.filter(kind=Approval.Kind.MOVE).exists()
    plan_update(actor=mover, plan_id=plan.pk, data=plan_data(name="Late renewals"))
    plan.refresh_from_db()
    assert plan.approval_id != granted  # waiting again, for the new revision
    client.force_login(mover)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    line = re.search(r"<dd data-job-approved-by>(.*?)</dd>", page, re.S).group(1)
    assert line.startswith("Approved by Sam &lt;Second&gt; at <time")
    assert f"approval {granted}</a>, of the plan)" in line
