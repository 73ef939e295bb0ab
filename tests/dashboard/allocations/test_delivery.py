"""Delivery edges found by the drills: a broker that is down at submit, a database that goes away
mid-job. ICWS and the broker are replaced at one seam each."""

from __future__ import annotations

from unittest import mock

import pytest
from celery.exceptions import Retry
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerDown

from dashboard.allocations import execute, submit, tasks
from dashboard.allocations.models import AllocationJob


@pytest.fixture(autouse=True)
def through_apply_async():
    """These tests replace Celery's apply_async; the Redis push that stands in for it on a web
    request has tests of its own (test_publish.py)."""
    with mock.patch.object(tasks, "_redis_push", return_value=None):
        yield


def test_a_broker_outage_at_submit_leaves_the_job_queued_for_the_sweeper(
    mover, dir_small, django_capture_on_commit_callbacks, caplog
):
    with (
        mock.patch.object(
            tasks.run_job_task, "apply_async", side_effect=BrokerDown("Connection refused")
        ) as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        job, created = submit.job_submit(
            actor=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"], campaign_ids_out=["{C1}"]
        )
    assert created
    publish.assert_called_once()
    job.refresh_from_db()
    assert job.status == AllocationJob.Status.QUEUED
    assert f"job {job.pk} stays queued for the sweeper" in caplog.text


def test_the_job_is_published_after_commit(mover, dir_small, django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.run_job_task, "apply_async") as publish:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            job, _ = submit.job_submit(actor=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"])
        publish.assert_not_called()  # nothing is published before the job row is committed
        for callback in callbacks:
            callback()
    assert publish.call_args.args[0] == (job.pk,)


def test_a_database_outage_mid_job_retries_instead_of_failing_the_move(mover, dir_small):
    job = AllocationJob.objects.create(
        requested_by=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"]
    )
    with (
        mock.patch.object(
            execute, "job_execute", side_effect=OperationalError("server closed the connection")
        ),
        mock.patch.object(execute, "job_fail_unexpectedly") as fail,
        mock.patch.object(tasks.run_job_task, "retry", side_effect=Retry()) as retry,
        mock.patch.object(tasks, "get_client"),
        pytest.raises(Retry),
    ):
        tasks.run_job_task(job.pk)
    fail.assert_not_called()
    assert retry.call_args.kwargs["countdown"] == tasks.DATABASE_RETRY_SECONDS
    job.refresh_from_db()
    assert job.status == AllocationJob.Status.QUEUED
