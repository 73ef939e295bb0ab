"""What a token POST of a move reads: the token with its user, roles and scope row in one
query, the move's agents, campaigns, versions and rosters in one more, then the write
transaction. Each look-up once per request; the answers the same as when each had its own
query (roles, scope, unknown ids, stale versions, the audit row's roster)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from dashboard.accounts.models import SupervisorScope
from dashboard.audit.models import AuditEvent
from tests.dashboard.conftest import statements, user_with_role

pytestmark = pytest.mark.postgres_too
MOVE = {"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]}


def _reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip("(").upper().startswith("SELECT")]


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
