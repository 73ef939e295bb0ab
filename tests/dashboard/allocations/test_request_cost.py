"""What a move costs the database, per request and per job: a constant number of statements
whatever the number of agents (set-based SQL, look-ups cached per request), one write
transaction for the POST, two for a one-batch job's run."""

from __future__ import annotations

import re
import secrets
from unittest import mock

import pytest

from dashboard.accounts.models import ApiToken
from dashboard.allocations import execute, submit, together
from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import Agent, Campaign, RosterEntry, Workgroup
from icws_client import IcwsClient
from tests.dashboard.conftest import statements

pytestmark = pytest.mark.postgres_too


@pytest.fixture(autouse=True)
def no_enqueue():
    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True) as enqueue:
        yield enqueue


@pytest.fixture
def many_agents(db):
    group = Workgroup.objects.create(id="Sales", name="Sales")
    c1 = Campaign.objects.create(id="{C1}", name="Renewals", state="on", workgroup=group)
    Campaign.objects.create(id="{C2}", name="Winback", state="on", workgroup=group)
    ids = []
    for i in range(40):
        agent = Agent.objects.create(id=f"m{i:02d}", name=f"Agent {i}")
        agent.workgroups.add(group)
        RosterEntry.objects.create(agent=agent, campaign=c1)
        ids.append(agent.pk)
    return ids


ENGINE_TABLES = ("allocations_", "directory_")
_WRITE = re.compile(r'^(?:INSERT(?: OR IGNORE)? INTO|UPDATE|DELETE FROM)\s+"([^"]+)"', re.I)


def _split(seen: list[str]) -> list[str]:
    """Each statement on its own: on PostgreSQL several go in one round trip (``together``)."""
    return [part for s in seen for part in s.split(together.SEPARATOR)]


def _writes(seen: list[str]) -> list[str]:
    """The engine's own writes, audit rows aside (how one is written is the audit app's
    business, and other apps may react to one with writes of theirs): statements whose
    target table is an engine table."""
    return [
        s
        for s in _split(seen)
        if (m := _WRITE.match(s.strip())) and m.group(1).startswith(ENGINE_TABLES)
    ]


def _post(client, key, agents):
    return client.post(
        "/api/allocations",
        {"agent_ids": agents, "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]},
        content_type="application/json",
        headers={"Authorization": f"Token {key}"},
    )


def test_the_post_costs_the_same_for_one_agent_and_forty(client, mover, many_agents):
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=mover, key_hash=ApiToken.hash(key), prefix=key[:8])
    _post(client, key, many_agents[:1])  # the token's last_used_at is written once a minute

    with statements() as one:
        assert _post(client, key, many_agents[1:2]).status_code == 202
    with statements() as forty:
        assert _post(client, key, many_agents[2:40]).status_code == 202

    assert len(one) == len(forty), (one, forty)
    assert len(one) <= 16
    # Roles, scope and the token are each read once per request.
    assert sum("auth_group" in s for s in one) == 1
    assert sum("accounts_apitoken" in s for s in one) == 1


def test_a_one_batch_jobs_run_is_constant_and_set_based(mover, many_agents):
    def run(agents):
        job, _ = submit.job_submit(
            actor=mover, agent_ids=agents, campaign_ids_in=["{C2}"], campaign_ids_out=["{C1}"]
        )
        client = mock.create_autospec(IcwsClient, instance=True)
        with statements() as seen:
            assert execute.job_execute(job_id=job.pk, client=client).status == "succeeded"
        return seen

    one, forty = run(many_agents[:1]), run(many_agents[1:40])
    assert len(one) == len(forty), "no statement per agent"
    # Writes: claim, hold, batch sending; then fenced success, roster delete and insert,
    # agents released, batch accepted. Plus the "started" and "succeeded" audit rows.
    assert len(_writes(one)) == 8, _writes(one)
    assert sum(s.strip().startswith('INSERT INTO "audit_auditevent"') for s in _split(one)) == 2
    job_updates = [s for s in _writes(one) if 'UPDATE "allocations_allocationjob"' in s]
    assert len(job_updates) == 2, "the claim and the fenced success, nothing between"
    # The agents' names come with their locked rows and the requester's roster with the job's
    # row: no statement of its own for either.
    assert not [s for s in one if s.startswith('SELECT "audit_auditevent"')]
    assert not [
        s
        for s in one
        if s.startswith('SELECT "directory_agent"."id" AS "id", "directory_agent"."name"')
    ]
    assert AllocationJob.objects.filter(status="succeeded").count() == 2
