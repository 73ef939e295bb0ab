"""Submit's guards from the security review (issue 17): invisible characters in reasons, booleans
as versions, lone surrogates, capped refusal rows, and users with no role who may not probe."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache

from dashboard.allocations import submit
from dashboard.allocations.errors import InvalidMove, MoveForbidden
from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent

pytestmark = pytest.mark.postgres_too
MOVE = {"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"]}


@pytest.fixture(autouse=True)
def no_enqueue():
    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True):
        yield


@pytest.mark.parametrize(
    "char", ["\u200b", "\u200e", "\u200f", "\u061c", "\u2028", "\u2029", "\ufeff", "\u2060"]
)
def test_invisible_characters_in_a_reason_are_refused(mover, dir_small, char):
    with pytest.raises(InvalidMove) as info:
        submit.job_submit(actor=mover, reason=f"short{char}staffed", **MOVE)
    assert "reason" in info.value.fields
    assert not AllocationJob.objects.exists()


def test_ordinary_text_in_a_reason_passes(mover, dir_small):
    job, _ = submit.job_submit(actor=mover, reason="Müller's team: 2nd shift\tok", **MOVE)
    assert job.reason.startswith("Müller")


def test_a_boolean_is_not_a_roster_version(mover, dir_small):
    with pytest.raises(InvalidMove) as info:
        submit.job_submit(actor=mover, expected_versions={"a1": True}, **MOVE)
    assert "expected_versions" in info.value.fields


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("reason", {"reason": "bad \ud800 text"}),
        ("agent_ids", {"agent_ids": ["a\ud800"]}),
        ("campaign_ids_in", {"campaign_ids_in": ["{C\udfff}"]}),
        ("campaign_ids_out", {"campaign_ids_out": ["\ud800"]}),
    ],
)
def test_a_lone_surrogate_is_refused_naming_the_field(mover, dir_small, field, kw):
    with pytest.raises(InvalidMove) as info:
        submit.job_submit(actor=mover, **{**MOVE, **kw})
    assert field in info.value.fields
    assert not AllocationJob.objects.exists()


@pytest.fixture
def many_agents(dir_small):
    agents = [Agent(id=f"m{n:04d}", name=f"Many {n}") for n in range(300)]
    Agent.objects.bulk_create(agents)
    return [a.id for a in agents]


def test_a_refusal_row_lists_a_capped_number_of_agents(mover, many_agents):
    Agent.objects.filter(pk__in=many_agents).update(roster_version=5)
    stale = dict.fromkeys(many_agents, 4)
    with pytest.raises(submit.MoveConflict):
        submit.job_submit(
            actor=mover, agent_ids=many_agents, campaign_ids_in=["{C2}"], expected_versions=stale
        )
    row = AuditEvent.objects.get(kind="refused")
    assert row.agent_ids == many_agents[: submit.REFUSAL_AGENTS_KEPT]
    assert len(row.roster_before) == submit.REFUSAL_AGENTS_KEPT
    assert row.details["agent_count"] == 300


def test_a_user_who_may_not_move_gets_403_before_unknown_agents(no_role_user, auditor, dir_small):
    for user in (no_role_user, auditor):
        with pytest.raises(MoveForbidden):
            submit.job_submit(actor=user, agent_ids=["ghost"], campaign_ids_in=["{C2}"])


def test_a_user_with_no_role_is_audited_once_per_window_then_summarised(
    no_role_user, dir_small, monkeypatch
):
    cache.delete(f"allocations:roleless-refusals:{no_role_user.pk}")
    for _ in range(4):
        with pytest.raises(MoveForbidden):
            submit.job_submit(actor=no_role_user, agent_ids=["a1"] * 2, campaign_ids_in=["x"])
    assert AuditEvent.objects.filter(kind="refused").count() == 1
    monkeypatch.setattr(submit, "ROLELESS_AUDIT_WINDOW", submit.timedelta(0))
    with pytest.raises(MoveForbidden):
        submit.job_submit(actor=no_role_user, **MOVE)
    last = AuditEvent.objects.filter(kind="refused").order_by("-pk").first()
    assert AuditEvent.objects.filter(kind="refused").count() == 2
    assert "3 refused attempt(s) by this user were not recorded" in last.message
    assert last.details["unrecorded_attempts"] == 3


def test_a_roleless_refusal_row_keeps_only_clean_capped_input(no_role_user, dir_small):
    ids = [f"x{n}" for n in range(5000)] + ["bad\ud800", 7]
    with pytest.raises(MoveForbidden):
        submit.job_submit(
            actor=no_role_user, agent_ids=ids, campaign_ids_in=["{C2}"], reason="r\ud800"
        )
    row = AuditEvent.objects.get(kind="refused")
    assert len(row.agent_ids) == submit.REFUSAL_AGENTS_KEPT
    assert row.details["agent_count"] == 5000
    assert row.reason == ""
