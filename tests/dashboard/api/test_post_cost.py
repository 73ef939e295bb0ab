"""What a token POST of a move reads: the token with its user, roles and scope row in one
query, the move's agents, campaigns, versions and rosters in one more, then the write
transaction. Each look-up once per request; the answers the same as when each had its own
query (roles, scope, unknown ids, stale versions, the audit row's roster)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from dashboard.accounts.models import SupervisorScope
from dashboard.allocations import submit, together
from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.audit.verify import chain_verify
from dashboard.core import prepared
from tests.dashboard.conftest import statements, user_with_role

pytestmark = pytest.mark.postgres_too
MOVE = {"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]}


def _reads(seen: list[str]) -> list[str]:
    """Reads of tables (the ids the write takes from their sequences are not one); on
    PostgreSQL a kept read runs as the EXECUTE of its prepared statement (``core.prepared``)."""
    return [
        s
        for s in _split(seen)
        if s.lstrip("(").upper().startswith(("SELECT", "EXECUTE"))
        and not s.startswith("SELECT nextval(")
    ]


def _split(seen: list[str]) -> list[str]:
    """Each statement on its own: on PostgreSQL several go in one round trip (``together``)."""
    return [part for s in seen for part in s.split(together.SEPARATOR)]


def _post(api, body=MOVE):
    return api.post("/api/allocations", body)


def test_a_supervisors_post_reads_twice_then_writes(api, mover, dir_small):
    api.as_user(mover)
    _post(api, {**MOVE, "agent_ids": ["a2"]})  # the token's last_used_at, written once a minute
    with statements() as seen:
        assert _post(api).status_code == 202

    reads = _reads(seen)
    assert len(reads) == 2, reads
    token, move = reads
    assert "accounts_apitoken" in token and "auth_group" in token
    assert "accounts_supervisorscope" in token
    assert all(t in move for t in ("directory_agent", "directory_campaign", "rosterentry"))
    assert not any("approvals_reasoncode" in s for s in seen), "no code sent, none required"
    row = AuditEvent.objects.get(kind=AuditEvent.Kind.REQUESTED, agent_ids=["a1"])
    assert row.roster_before == {"a1": ["{C1}"]}
    assert row.agent_names == {"a1": "Agent 1"}
    assert row.campaign_names == {"{C1}": "Renewals", "{C2}": "Winback"}
    if connection.vendor == "postgresql":
        # The two reads, then the job with its batch and ids in one round trip and the audit
        # row, sealed as inserted, in one more (BEGIN and COMMIT are the driver's; the test's
        # own transaction makes them savepoints).
        trips = [s for s in seen if "SAVEPOINT" not in s]
        assert len(trips) == 4, trips
        job, audit = trips[2:]
        assert [s.split(" (")[0] for s in job.split(together.SEPARATOR)] == [
            "SELECT nextval(pg_get_serial_sequence('allocations_allocationjob', 'id')), "
            "nextval(pg_get_serial_sequence('audit_auditevent', 'id'))",
            'INSERT INTO "allocations_allocationjob"',
            'INSERT INTO "allocations_jobbatch"',
        ]
        assert audit.startswith('INSERT INTO "audit_auditevent"')
        assert not [s for s in trips if s.startswith("UPDATE")]


def test_the_job_and_its_batches_read_back_as_written(api, mover, dir_small, settings):
    settings.ALLOCATION_BATCH_SIZE = 2
    api.as_user(mover)
    answer = _post(api, {**MOVE, "agent_ids": ["a1", "a2", "a3"], "reason": "cover"})
    assert answer.status_code == 202
    job = AllocationJob.objects.get(pk=answer.json()["id"])
    assert (job.requested_by, job.status, job.reason) == (mover, "queued", "cover")
    assert (job.agent_ids, job.campaign_ids_in, job.campaign_ids_out) == (
        ["a1", "a2", "a3"],
        ["{C2}"],
        ["{C1}"],
    )
    assert job.created_at is not None and job.next_attempt_at is not None
    assert [(b.index, b.agent_ids, b.status) for b in job.batches.order_by("index")] == [
        (0, ["a1", "a2"], "pending"),
        (1, ["a3"], "pending"),
    ]
    row = AuditEvent.objects.get(kind=AuditEvent.Kind.REQUESTED, job=job)
    assert row.seal and row.message == "Move 3 agents into Winback ({C2}), out of Renewals ({C1})"
    report = chain_verify(chain_first=False)  # the row's seal, before the chainer reaches it
    assert report.ok and report.unchained == 1, report


def test_a_one_batch_jobs_inserts_are_kept_compiled(api, mover, dir_small):
    api.as_user(mover)
    for agent in ("a1", "a2"):
        assert _post(api, {**MOVE, "agent_ids": [agent]}).status_code == 202
    job = AllocationJob.objects.get(agent_ids=["a2"])
    assert [b.agent_ids for b in job.batches.all()] == [["a2"]]
    if connection.vendor == "postgresql":  # elsewhere the ORM writes them
        for insert in (submit._JOB_INSERT, submit._BATCH_INSERT):
            assert getattr(insert._local, "default", None) not in (None, prepared._UNPREPARED)


def test_roles_come_from_the_token_query_of_each_request(api, mover, dir_small):
    api.as_user(mover)
    assert _post(api).status_code == 202
    mover.groups.set([Group.objects.get_or_create(name="auditor")[0]])
    assert _post(api, {**MOVE, "agent_ids": ["a2"]}).status_code == 403
    mover.groups.add(Group.objects.get(name="supervisor"))
    assert _post(api, {**MOVE, "agent_ids": ["a2"]}).status_code == 202


def test_a_scoped_supervisors_workgroups_are_read_once(api, django_user_model, dir_small, settings):
    settings.APPROVAL_REQUIRED_FOR = {"out_of_scope"}  # the gate asks for the scope too
    scoped = user_with_role(django_user_model, "scoped", "supervisor")
    SupervisorScope.objects.create(user=scoped).workgroups.add(dir_small["groups"][0])
    api.as_user(scoped)
    _post(api, {**MOVE, "agent_ids": ["a2"]})
    with statements() as seen:
        assert _post(api).status_code == 202
    # Asked twice (the approval gate's out-of-scope rule, then the scope check), read once.
    assert sum("accounts_supervisorscope_workgroups" in s for s in seen) == 1

    settings.APPROVAL_REQUIRED_FOR = set()  # out of scope is refused, not sent for approval
    refused = _post(api, {"agent_ids": ["a3"], "campaign_ids_in": ["{C3}"]})
    assert refused.status_code == 403
    assert "outside your workgroups: a3" in refused.json()["detail"]


def test_the_same_answers_from_the_one_read(api, mover, dir_small):
    api.as_user(mover)
    unknown = _post(api, {**MOVE, "agent_ids": ["a1", "nope"], "campaign_ids_in": ["{C9}"]})
    assert unknown.status_code == 400
    assert "unknown agents: nope" in unknown.json()["detail"]
    assert "unknown campaigns: {C9}" in unknown.json()["detail"]

    dir_small["campaigns"][1].__class__.objects.filter(id="{C2}").update(active=False)
    retired = _post(api)
    assert retired.status_code == 400 and "unknown campaigns: {C2}" in retired.json()["detail"]

    stale = _post(api, {**MOVE, "campaign_ids_in": ["{C3}"], "expected_versions": {"a1": 7}})
    assert stale.status_code == 409
    current = _post(api, {**MOVE, "campaign_ids_in": ["{C3}"], "expected_versions": {"a1": 0}})
    assert current.status_code == 202
