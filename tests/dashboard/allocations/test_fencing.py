"""Fencing: a worker whose lease passed and whose job was taken over writes nothing of the
outcome; the lease must outlast one send; a timed-out send is unknown only if its status never
came. ICWS is replaced at one seam (the client object)."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.checks import Error
from django.utils import timezone

from dashboard.allocations import checks, execute, sweep
from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.allocations.submit import job_submit
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent
from dashboard.directory.selectors import roster_of
from icws_client import IcwsClient, IcwsTimeout

Status = AllocationJob.Status


@pytest.fixture(autouse=True)
def no_enqueue():
    with (
        mock.patch("dashboard.allocations.submit._enqueue_on_commit", autospec=True) as enqueue,
        mock.patch("dashboard.allocations.tasks.enqueue_job", new=enqueue),
    ):
        yield enqueue


def submit(user):
    job, _ = job_submit(
        actor=user, agent_ids=["a1"], campaign_ids_in=["{C2}"], campaign_ids_out=["{C1}"]
    )
    return job


def taken_over_during_the_send(job_id):
    """A client whose send outlives the lease: while it is in flight, the sweeper re-queues the
    job and a second worker takes it (raising the lease token), as after a trickling answer."""

    def allocate(*args, **kw):
        AllocationJob.objects.filter(pk=job_id).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        assert sweep.jobs_sweep() == [job_id]
        AllocationJob.objects.filter(pk=job_id).update(status=Status.RUNNING)
        AllocationJob.objects.filter(pk=job_id).update(lease_token=99)

    client = mock.create_autospec(IcwsClient, instance=True)
    client.allocate_agents.side_effect = allocate
    return client


def test_a_stale_workers_write_is_refused_and_audited(mover, dir_small):
    job = submit(mover)
    client = taken_over_during_the_send(job.pk)

    outcome = execute.job_execute(job_id=job.pk, client=client)

    assert outcome.notes == ["lease lost: write refused"]
    client.allocate_agents.assert_called_once()
    job.refresh_from_db()
    assert job.status == Status.RUNNING and job.lease_token == 99, "the new holder's, untouched"
    assert roster_of(["a1"]) == {"a1": ["{C1}"]}, "the stale worker did not move the roster"
    assert Agent.objects.get(pk="a1").roster_version == 0
    assert JobBatch.objects.get(job=job).status == JobBatch.Status.SENDING
    assert not AuditEvent.objects.filter(job=job, kind="succeeded").exists()
    swept, refused = AuditEvent.objects.filter(job=job, kind="retry").order_by("id")
    assert swept.message.startswith("Lease expired while the send of batch 1 was in flight")
    assert "stopped answering" not in swept.message
    assert refused.message.startswith("Lease expired (attempt 1) while the send was in flight")
    assert "ICWS answered it (2xx)" in refused.message
    assert refused.details == {"batch": 0, "stale_lease_token": 1, "write_refused": True}


def test_a_stale_workers_failure_is_refused_too(mover, dir_small):
    job = submit(mover)
    client = taken_over_during_the_send(job.pk)
    inner = client.allocate_agents.side_effect

    def allocate_then_time_out(*args, **kw):
        inner()
        raise IcwsTimeout(sent=True, status_received=False)

    client.allocate_agents.side_effect = allocate_then_time_out
    execute.job_execute(job_id=job.pk, client=client)
    job.refresh_from_db()
    assert job.status == Status.RUNNING
    assert JobBatch.objects.get(job=job).status == JobBatch.Status.SENDING
    refused = AuditEvent.objects.filter(job=job, kind="retry").order_by("id").last()
    assert refused.details["write_refused"] is True
    assert "did not answer in time" in refused.message


def test_each_take_raises_the_token(mover, dir_small):
    job = submit(mover)
    client = mock.create_autospec(IcwsClient, instance=True)
    execute.job_execute(job_id=job.pk, client=client)
    job.refresh_from_db()
    assert (job.status, job.lease_token) == (Status.SUCCEEDED, 1)


def test_a_timeout_before_the_request_went_out_is_not_unknown(mover, dir_small, settings):
    settings.ALLOCATION_MAX_ATTEMPTS = 1
    job = submit(mover)
    client = mock.create_autospec(IcwsClient, instance=True)
    client.allocate_agents.side_effect = IcwsTimeout(sent=False)
    execute.job_execute(job_id=job.pk, client=client)
    failed = AuditEvent.objects.get(job=job, kind="failed")
    assert not failed.details
    assert "may have applied" not in failed.message


def test_a_timeout_with_no_status_is_unknown(mover, dir_small, settings):
    settings.ALLOCATION_MAX_ATTEMPTS = 1
    job = submit(mover)
    client = mock.create_autospec(IcwsClient, instance=True)
    client.allocate_agents.side_effect = IcwsTimeout(sent=True, status_received=False)
    execute.job_execute(job_id=job.pk, client=client)
    failed = AuditEvent.objects.get(job=job, kind="failed")
    assert failed.details == {"batch": 0, "outcome_unknown": True}
    assert "may have applied the last send" in failed.message


@pytest.mark.parametrize(("lease", "timeout", "errors"), [(120, 10, 0), (15, 10, 1), (10, 10, 1)])
def test_the_lease_must_outlast_a_send(settings, lease, timeout, errors):
    settings.ALLOCATION_LEASE_SECONDS = lease
    settings.ICWS_TIMEOUT = timeout
    found = checks.lease_outlasts_send()
    assert len(found) == errors
    assert all(isinstance(e, Error) and e.id == "allocations.E001" for e in found)
