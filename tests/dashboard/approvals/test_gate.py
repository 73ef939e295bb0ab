"""The gate's decision (what needs approval), its settings and the board's answer to a held move."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from dashboard.accounts.models import SupervisorScope
from dashboard.allocations import submit
from dashboard.allocations.errors import MoveForbidden
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.submit import job_submit
from dashboard.approvals.errors import ApprovalPending
from dashboard.approvals.gate import approval_needed, approval_needs
from dashboard.approvals.models import Approval

pytestmark = pytest.mark.postgres_too
MOVE = {"agent_ids": ["a1", "a2"], "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]}


@pytest.fixture(autouse=True)
def no_enqueue():
    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True):
        yield


def test_off_by_default_nothing_waits(settings, mover, dir_small):
    settings.APPROVAL_REQUIRED_FOR = frozenset()
    assert approval_needed("plan", requester=mover, agent_ids=["a1", "a2", "a3"]) is None
    _job, created = job_submit(actor=mover, **MOVE)
    assert created and Approval.objects.count() == 0


def test_each_kind_is_switched_on_by_itself(settings, mover, dir_small):
    settings.APPROVAL_THRESHOLD_AGENTS = 1
    settings.APPROVAL_REQUIRED_FOR = frozenset({"plan"})
    assert approval_needs("move", requester=mover, agent_ids=["a1", "a2"]) == []
    assert [n for n, _ in approval_needs("plan", requester=mover, agent_ids=["a1"])] == ["plan"]
    settings.APPROVAL_REQUIRED_FOR = frozenset({"large"})
    assert approval_needs("move", requester=mover, agent_ids=["a1"]) == []
    assert approval_needed("move", requester=mover, agent_ids=["a1", "a2"]) == (
        "2 agents, more than 1"
    )


def test_out_of_scope_is_refused_unless_it_is_switched_on(settings, mover, dir_small):
    SupervisorScope.objects.create(user=mover).workgroups.add(dir_small["groups"][0])
    care = {"agent_ids": ["a3"], "campaign_ids_in": ["{C3}"]}
    settings.APPROVAL_REQUIRED_FOR = frozenset({"large"})
    with pytest.raises(MoveForbidden):
        job_submit(actor=mover, **care)
    settings.APPROVAL_REQUIRED_FOR = frozenset({"out_of_scope"})
    with pytest.raises(ApprovalPending) as held:
        job_submit(actor=mover, **care)
    assert "outside the requester's workgroups: a3" in held.value.approval.needs_text


def test_a_revert_never_waits(settings, mover, dir_small):
    settings.APPROVAL_THRESHOLD_AGENTS = 1
    settings.APPROVAL_REQUIRED_FOR = frozenset()
    original, _ = job_submit(actor=mover, **MOVE)
    settings.APPROVAL_REQUIRED_FOR = frozenset({"large"})
    revert, created = job_submit(
        actor=mover,
        agent_ids=MOVE["agent_ids"],
        campaign_ids_in=MOVE["campaign_ids_out"],
        campaign_ids_out=MOVE["campaign_ids_in"],
        revert_of=original,
    )
    assert created and revert.revert_of == original and Approval.objects.count() == 0


def test_the_board_says_the_move_waits_and_refreshes_the_panel(settings, client, mover, dir_small):
    settings.APPROVAL_REQUIRED_FOR = frozenset({"large"})
    settings.APPROVAL_THRESHOLD_AGENTS = 1
    client.force_login(mover)
    picks = "%7BC1%7D/a1/0\n%7BC1%7D/a2/0"
    data = {"picks": picks, "target": "{C2}", "idempotency_key": "board-1"}
    response = client.post(reverse("move-submit"), data, headers={"HX-Request": "true"})
    assert response.status_code == 202
    approval = Approval.objects.get()
    body = response.content.decode()
    assert f'data-approval-pending="{approval.pk}"' in body and "Waiting for approval" in body
    assert "approvalRequested" in response["HX-Trigger"]
    assert response["HX-Retarget"] == "#move-dialog-body"
    # Without JavaScript: the approval's page.
    again = client.post(reverse("move-submit"), data)
    assert again.status_code == 302 and again["Location"] == f"/approvals/{approval.pk}/"
    assert Approval.objects.count() == 1 and AllocationJob.objects.count() == 0
