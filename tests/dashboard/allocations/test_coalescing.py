"""Coalescing at the client seam: which queued jobs go in one call, the split on a 400, fencing
per job, and a transient error handing each neighbour its own retry."""

from __future__ import annotations

from unittest import mock

import pytest

from dashboard.agentpage.models import ReadyForCalls
from dashboard.allocations import execute
from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.allocations.submit import job_submit
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent, RosterEntry
from dashboard.directory.selectors import roster_of
from icws_client import IcwsBadRequest, IcwsClient, IcwsServerError

Status = AllocationJob.Status


@pytest.fixture(autouse=True)
def no_enqueue():
    with (
        mock.patch("dashboard.allocations.submit._enqueue_on_commit", autospec=True) as enqueue,
        mock.patch("dashboard.allocations.tasks.enqueue_job", new=enqueue),
    ):
        yield enqueue


@pytest.fixture
def client():
    return mock.create_autospec(IcwsClient, instance=True)


def move(user, agent, ins=("{C2}",), outs=("{C1}",)):
    job, _ = job_submit(actor=user, agent_ids=[agent], campaign_ids_in=ins, campaign_ids_out=outs)
    return job


def kinds(job):
    return list(AuditEvent.objects.filter(job=job).order_by("id").values_list("kind", flat=True))


def test_queued_jobs_with_the_same_campaigns_go_in_one_call(mover, dir_small, client):
    first, second = move(mover, "a1"), move(mover, "a2")
    other_pair = move(mover, "a3", ins=("{C3}",), outs=())

    outcome = execute.job_execute(job_id=first.pk, client=client)

    assert outcome.status == Status.SUCCEEDED
    client.allocate_agents.assert_called_once_with(["a1", "a2"], ["{C2}"], ["{C1}"])
    for job in (first, second):
        job.refresh_from_db()
        assert (job.status, job.lease_token, job.attempts) == (Status.SUCCEEDED, 1, 1)
        assert kinds(job) == ["requested", "started", "succeeded"]
    assert roster_of(["a1", "a2"]) == {"a1": ["{C2}"], "a2": ["{C2}"]}
    other_pair.refresh_from_db()
    assert other_pair.status == Status.QUEUED, "different campaigns: not taken"
    assert AuditEvent.objects.get(job=second, kind="succeeded").details == {"sent_with": [first.pk]}


def test_coalescing_is_off_at_one(mover, dir_small, client, settings):
    settings.ALLOCATION_COALESCE_MAX = 1
    first, second = move(mover, "a1"), move(mover, "a2")
    execute.job_execute(job_id=first.pk, client=client)
    client.allocate_agents.assert_called_once_with(["a1"], ["{C2}"], ["{C1}"])
    second.refresh_from_db()
    assert second.status == Status.QUEUED


def test_a_400_is_split_until_the_bad_job_is_alone(mover, dir_small, client):
    jobs = [move(mover, a) for a in ("a1", "a2", "a3", "a4")]

    def allocate(agent_ids, ins, outs):
        if "a3" in agent_ids:
            raise IcwsBadRequest("agentIds: unknown agent ids 'a3'.", status=400)

    client.allocate_agents.side_effect = allocate
    execute.job_execute(job_id=jobs[0].pk, client=client)

    calls = [c.args[0] for c in client.allocate_agents.call_args_list]
    assert calls == [["a1", "a2", "a3", "a4"], ["a1", "a2"], ["a3", "a4"], ["a3"], ["a4"]]
    for job in jobs:
        job.refresh_from_db()
    assert [j.status for j in jobs] == [Status.SUCCEEDED] * 2 + [Status.FAILED, Status.SUCCEEDED]
    assert jobs[2].error_status == 400 and "a3" in jobs[2].error_message
    assert kinds(jobs[2]) == ["requested", "started", "failed"]
    assert not Agent.objects.exclude(held_by_job=None).exists()


def test_fencing_holds_per_job_in_a_coalesced_call(mover, dir_small, client):
    first, second = move(mover, "a1"), move(mover, "a2")

    def allocate(*args):  # meanwhile another worker took the second job over
        AllocationJob.objects.filter(pk=second.pk).update(lease_token=99)

    client.allocate_agents.side_effect = allocate
    execute.job_execute(job_id=first.pk, client=client)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Status.SUCCEEDED
    assert (second.status, second.lease_token) == (Status.RUNNING, 99), "the new holder's"
    assert roster_of(["a1", "a2"]) == {"a1": ["{C2}"], "a2": ["{C1}"]}
    assert JobBatch.objects.get(job=second).status == JobBatch.Status.SENDING
    refused = AuditEvent.objects.get(job=second, kind="retry")
    assert refused.details == {"batch": 0, "stale_lease_token": 1, "write_refused": True}
    assert Agent.objects.get(pk="a2").roster_version == 0


def test_a_transient_error_gives_each_neighbour_its_own_retry(mover, dir_small, client):
    first, second = move(mover, "a1"), move(mover, "a2")
    client.allocate_agents.side_effect = IcwsServerError("boom", status=503)

    outcome = execute.job_execute(job_id=first.pk, client=client)

    assert outcome.status == Status.RETRYING and outcome.retry_in is not None
    assert [pk for pk, _ in outcome.others_later] == [second.pk]
    second.refresh_from_db()
    assert second.status == Status.RETRYING
    assert kinds(second) == ["requested", "started", "retry"]


@pytest.mark.postgres_too
def test_each_coalesced_job_keeps_its_requesters_roster_and_the_names(mover, dir_small, client):
    # The "succeeded" rows' roster_before and the rows' names are read with the jobs' rows at
    # the claim (not in the outcome's transaction): each job must still get its own.
    first = move(mover, "a1")
    RosterEntry.objects.create(agent_id="a2", campaign_id="{C3}")
    second = move(mover, "a2")
    Agent.objects.filter(pk="a2").update(name="Agent <Two>")  # renamed after the request

    execute.job_execute(job_id=first.pk, client=client)

    rows = {job.pk: AuditEvent.objects.get(job=job, kind="succeeded") for job in (first, second)}
    assert rows[first.pk].roster_before == {"a1": ["{C1}"]}
    assert rows[second.pk].roster_before == {"a2": ["{C1}", "{C3}"]}
    assert rows[second.pk].roster_after == {"a2": ["{C2}", "{C3}"]}
    for kind in ("started", "succeeded"):
        row = AuditEvent.objects.get(job=second, kind=kind)
        assert row.agent_names == {"a2": "Agent <Two>"}, kind
        assert row.campaign_names == {"{C1}": "Renewals", "{C2}": "Winback"}, kind


@pytest.mark.postgres_too
def test_a_lone_job_pays_no_neighbour_query_and_its_claim_reads_in_one_round_trip(
    mover, dir_small, client
):
    from django.db import connection

    from tests.dashboard.conftest import statements

    job = move(mover, "a1")
    move(mover, "a2", ins=("{C3}",), outs=())  # queued, but for other campaigns
    with (
        mock.patch.object(execute.coalesce, "neighbours", wraps=execute.coalesce.neighbours) as n,
        statements() as seen,
    ):
        assert execute.job_execute(job_id=job.pk, client=client).status == Status.SUCCEEDED
    assert not n.called, "the probe found no candidate: no neighbour query"
    if connection.vendor == "postgresql":
        # The claim: the job's state, unlocked; its row locked, its batches, agents and the
        # probe; the writes; the "started" row. The outcome: the fence; the writes; the
        # "succeeded" row; whatever other apps write on a success.
        reads = [s for s in seen if '"allocations_jobbatch"' in s and "SKIP LOCKED" in s]
        assert len(reads) == 1 and '"directory_agent"' in reads[0] and "LIMIT 1" in reads[0]
        claim = [s for s in seen[: seen.index(reads[0]) + 1] if not s.startswith("SAVEPOINT")]
        assert len(claim) == 2, claim
        assert "FOR NO KEY UPDATE" not in claim[0], "the first read takes no lock"
        lock, batches = claim[1].index("SKIP LOCKED"), claim[1].index('"allocations_jobbatch"')
        assert lock < batches, "the job's row is locked first, in the reads' round trip"


@pytest.mark.postgres_too
@pytest.mark.django_db(transaction=True)
def test_a_neighbour_whose_agent_another_claim_holds_is_left_queued(mover, dir_small, client):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    import psycopg

    first, second, third = move(mover, "a1"), move(mover, "a2"), move(mover, "a3")
    other = psycopg.connect(**connection.get_connection_params())
    try:
        # Another transaction has a2's row locked (another job's claim, say): waiting for it
        # with a1 held could deadlock, so the second job is not taken along.
        other.execute("SELECT id FROM directory_agent WHERE id = 'a2' FOR UPDATE")
        execute.job_execute(job_id=first.pk, client=client)
    finally:
        other.rollback()
        other.close()
    client.allocate_agents.assert_called_once_with(["a1", "a3"], ["{C2}"], ["{C1}"])
    for job in (first, second, third):
        job.refresh_from_db()
    assert [first.status, second.status, third.status] == [
        Status.SUCCEEDED,
        Status.QUEUED,
        Status.SUCCEEDED,
    ]
    assert kinds(second) == ["requested"]
    assert execute.job_execute(job_id=second.pk, client=client).status == Status.SUCCEEDED


@pytest.mark.postgres_too
def test_a_coalesced_calls_audit_rows_go_in_one_round_trip_each_side(mover, dir_small, client):
    # Three jobs in one call: three "started" rows at the claim and three "succeeded" rows at
    # the outcome, each lot one round trip (they were one each), sealed as audit_record seals.
    from django.db import connection

    from dashboard.audit import chainer
    from tests.dashboard.conftest import statements

    jobs = [move(mover, a, ins=("{C3}",), outs=()) for a in ("a1", "a2", "a3")]
    with statements() as seen:
        assert execute.job_execute(job_id=jobs[0].pk, client=client).status == Status.SUCCEEDED
    client.allocate_agents.assert_called_once()
    for job in jobs:
        assert kinds(job) == ["requested", "started", "succeeded"]
    assert chainer.chain_pending() == AuditEvent.objects.count(), "every seal checks out"
    if connection.vendor == "postgresql":
        inserts = [s for s in seen if 'INSERT INTO "audit_auditevent"' in s]
        assert [s.count('INSERT INTO "audit_auditevent"') for s in inserts] == [3, 3]
        started, succeeded = inserts
        # The "started" rows go with the claim's writes; the "succeeded" rows with their
        # agents' ready-for-calls requests (one per job, each moved into C3).
        assert started.startswith('UPDATE "allocations_allocationjob"')
        assert 'UPDATE "directory_agent"' in started and 'UPDATE "allocations_jobbatch"' in started
        assert succeeded.count('INSERT INTO "agentpage_readyforcalls"') == 3
    assert ReadyForCalls.objects.filter(job__in=jobs).count() == 3


@pytest.mark.postgres_too
def test_a_coalesced_claim_holds_each_agent_for_its_own_job(mover, dir_small, client):
    jobs = [move(mover, a, ins=("{C3}",), outs=()) for a in ("a1", "a2", "a3")]
    held = {}

    def send(agent_ids, ins, outs):
        held.update(Agent.objects.filter(id__in=agent_ids).values_list("id", "held_by_job_id"))

    client.allocate_agents.side_effect = send
    assert execute.job_execute(job_id=jobs[0].pk, client=client).status == Status.SUCCEEDED
    assert held == {"a1": jobs[0].pk, "a2": jobs[1].pk, "a3": jobs[2].pk}
    assert not Agent.objects.exclude(held_by_job=None).exists(), "released with the outcome"
