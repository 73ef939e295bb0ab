"""A message for a job another run has taken or ended is answered without the job's lock."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from dashboard.allocations import execute
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.submit import job_submit
from icws_client import IcwsClient

Status = AllocationJob.Status


@pytest.fixture(autouse=True)
def no_enqueue():
    with mock.patch("dashboard.allocations.submit._enqueue_on_commit", autospec=True):
        yield


@pytest.fixture
def client():
    return mock.create_autospec(IcwsClient, instance=True)


def queued(user):
    job, _ = job_submit(actor=user, agent_ids=["a1"], campaign_ids_in=["{C2}"])
    return job


@pytest.mark.postgres_too
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", [Status.RUNNING, Status.SUCCEEDED])
def test_a_job_held_by_another_run_is_answered_without_waiting_for_its_lock(
    mover, dir_small, client, status
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    import psycopg

    job = queued(mover)
    AllocationJob.objects.filter(pk=job.pk).update(
        status=status, lease_expires_at=timezone.now() + timedelta(minutes=1)
    )
    other = psycopg.connect(**connection.get_connection_params())
    try:
        # Another run's outcome transaction holds the job's row (a coalescing neighbour's).
        other.execute("SET lock_timeout = '5s'")
        other.execute("SELECT id FROM allocations_allocationjob WHERE id = %s FOR UPDATE", [job.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # the locked read would fail after 2 s
        started = time.monotonic()
        outcome = execute.job_execute(job_id=job.pk, client=client)
        waited = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert outcome.status == status and waited < 1.5
    client.allocate_agents.assert_not_called()


@pytest.mark.postgres_too
def test_a_running_job_whose_lease_expired_is_taken_over(mover, dir_small, client):
    job = queued(mover)
    AllocationJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, lease_token=4, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    outcome = execute.job_execute(job_id=job.pk, client=client)
    job.refresh_from_db()
    assert outcome.status == Status.SUCCEEDED and job.lease_token == 5
    client.allocate_agents.assert_called_once()


@pytest.mark.postgres_too
def test_an_ended_job_is_not_run_again(mover, dir_small, client):
    job = queued(mover)
    execute.job_execute(job_id=job.pk, client=client)
    again = execute.job_execute(job_id=job.pk, client=client)
    assert again.status == Status.SUCCEEDED
    assert client.allocate_agents.call_count == 1


@pytest.mark.postgres_too
@pytest.mark.parametrize("status", [Status.SUCCEEDED, Status.RUNNING, Status.RETRYING])
def test_a_settled_job_is_answered_from_one_read_without_a_lock(mover, dir_small, client, status):
    # The message of a job a neighbour's run took or ended (most messages in a busy queue):
    # the old claim locked its row first (a transaction, a row lock and its commit record).
    from tests.dashboard.conftest import statements

    job = queued(mover)
    later = timezone.now() + timedelta(minutes=1)
    AllocationJob.objects.filter(pk=job.pk).update(
        status=status, lease_expires_at=later, next_attempt_at=later
    )
    with statements() as seen:
        outcome = execute.job_execute(job_id=job.pk, client=client)
    assert outcome.status == status
    assert (outcome.retry_in is not None) == (status == Status.RETRYING)
    assert len(seen) == 1 and "FOR NO KEY UPDATE" not in seen[0] and "FOR UPDATE" not in seen[0]
    client.allocate_agents.assert_not_called()


@pytest.mark.postgres_too
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ends", [True, False])
def test_a_queued_job_whose_row_another_transaction_holds_is_decided_by_what_it_commits(
    mover, dir_small, client, ends
):
    # Read queued, then skipped by the locked read: the claim lets go of what it locked and
    # waits for the row; what the other transaction committed decides.
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    import threading

    import psycopg

    job = queued(mover)
    other = psycopg.connect(**connection.get_connection_params())
    other.execute("SELECT id FROM allocations_allocationjob WHERE id = %s FOR UPDATE", [job.pk])
    if ends:
        other.execute(
            "UPDATE allocations_allocationjob SET status = 'cancelled' WHERE id = %s", [job.pk]
        )
    release = threading.Timer(0.5, other.commit)
    release.start()
    try:
        started = time.monotonic()
        outcome = execute.job_execute(job_id=job.pk, client=client)
        waited = time.monotonic() - started
    finally:
        release.join()
        other.close()
    assert waited >= 0.4, "the claim waited for the row"
    if ends:
        assert outcome.status == Status.CANCELLED
        client.allocate_agents.assert_not_called()
    else:
        assert outcome.status == Status.SUCCEEDED
        client.allocate_agents.assert_called_once()


@pytest.mark.postgres_too
@pytest.mark.django_db(transaction=True)
def test_a_claim_that_skips_the_jobs_row_does_not_wait_for_its_agents(mover, dir_small, client):
    # Another transaction (a late run's outcome) holds the job's row and its agent a2, then
    # updates a1. A claim that skipped the row but waited for a2 with a1 locked would deadlock
    # with it (PostgreSQL then fails one of the two after deadlock_timeout).
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    import threading

    import psycopg

    job, _ = job_submit(actor=mover, agent_ids=["a1", "a2"], campaign_ids_in=["{C2}"])
    other = psycopg.connect(**connection.get_connection_params())
    other.execute("SELECT id FROM allocations_allocationjob WHERE id = %s FOR UPDATE", [job.pk])
    other.execute("SELECT id FROM directory_agent WHERE id = 'a2' FOR UPDATE")
    errors = []

    def finish_other():
        try:
            other.execute("UPDATE directory_agent SET name = name WHERE id = 'a1'")
            other.commit()
        except psycopg.Error as error:
            errors.append(error)
            other.rollback()

    release = threading.Timer(0.5, finish_other)
    release.start()
    try:
        outcome = execute.job_execute(job_id=job.pk, client=client)
    finally:
        release.join()
        other.close()
    assert errors == [], "the other transaction was not made to wait for the claim"
    assert outcome.status == Status.SUCCEEDED
    client.allocate_agents.assert_called_once()
