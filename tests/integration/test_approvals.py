"""Four-eyes approval with the real worker, Redis, the simulator over HTTP and a real database:
a held move runs only once a second person approves it, with both names in its audit rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from dashboard.accounts.models import SupervisorScope
from dashboard.allocations.errors import InvalidMove, MoveConflict
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.submit import job_submit
from dashboard.approvals import decide
from dashboard.approvals.errors import ApprovalDecided, ApprovalPending, NotYourApproval
from dashboard.approvals.models import Approval, ReasonCode
from dashboard.approvals.review import review
from dashboard.approvals.tasks import expire_approvals_task
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent
from tests.integration.conftest import pick_move, sim_moves, wait_for, wait_terminal

Kind = AuditEvent.Kind


@pytest.fixture
def four_eyes(engine_settings):
    engine_settings.APPROVAL_REQUIRED_FOR = frozenset({"large", "out_of_scope"})
    engine_settings.APPROVAL_THRESHOLD_AGENTS = 1
    engine_settings.APPROVAL_EXPIRES_MINUTES = 30
    return engine_settings


def _user(django_user_model, name: str, role: str = "supervisor"):
    user = django_user_model.objects.create_user(name, password="pw-for-tests-only")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def second(transactional_db, django_user_model):
    return _user(django_user_model, "sup2")


def _request(actor, agents, source, target, **extra) -> Approval:
    with pytest.raises(ApprovalPending) as held:
        job_submit(
            actor=actor,
            agent_ids=agents,
            campaign_ids_in=[target],
            campaign_ids_out=[source],
            reason="Renewal push",
            **extra,
        )
    assert held.value.status == 202
    assert f"approval {held.value.approval.pk}" in held.value.message
    return held.value.approval


def test_an_approved_large_move_runs_with_both_names_in_its_audit(
    directory, worker, four_eyes, supervisor, second, simulator
):
    agents, source, target = pick_move(directory, count=2)
    approval = _request(supervisor, agents, source, target, idempotency_key="k-1")
    assert AllocationJob.objects.count() == 0
    assert approval.needs == ["large"]
    asked = AuditEvent.objects.get(kind=Kind.APPROVAL_REQUESTED)
    assert asked.actor == supervisor and asked.details["approval_id"] == approval.pk
    # The same key again is the same approval, not a second one.
    again = _request(supervisor, agents, source, target, idempotency_key="k-1")
    assert again.pk == approval.pk and Approval.objects.count() == 1

    seen = review(approval)
    assert not seen.changed and seen.preview is not None
    decide.approve(
        approval_id=approval.pk, actor=second, reason="Checked", expected_versions=seen.versions
    )
    approval.refresh_from_db()
    assert approval.status == Approval.Status.APPROVED and approval.decided_by == second
    job = wait_terminal(approval.job)
    assert job.status == AllocationJob.Status.SUCCEEDED
    assert job.requested_by == supervisor
    wait_for(lambda: [m["agentIds"] for m in sim_moves(simulator)] == [agents], what="the move")
    requested = AuditEvent.objects.get(kind=Kind.REQUESTED, job=job)
    assert requested.actor == supervisor
    assert requested.details["approved_by"] == "sup2"
    granted = AuditEvent.objects.get(kind=Kind.APPROVAL_GRANTED)
    assert granted.job == job and granted.actor == second
    assert granted.details["requested_by"] == "sup"
    # The requester's key now names the job: a replay gets the job back, not a new approval.
    replay, created = job_submit(
        actor=supervisor,
        agent_ids=agents,
        campaign_ids_in=[target],
        campaign_ids_out=[source],
        idempotency_key="k-1",
    )
    assert replay.pk == job.pk and not created


def test_a_rejected_move_never_runs(directory, worker, four_eyes, supervisor, second, simulator):
    agents, source, target = pick_move(directory, count=2)
    approval = _request(supervisor, agents, source, target)
    with pytest.raises(InvalidMove):
        decide.reject(approval_id=approval.pk, actor=second, reason="  ")
    decide.reject(approval_id=approval.pk, actor=second, reason="Not during the peak")
    approval.refresh_from_db()
    assert approval.status == Approval.Status.REJECTED
    row = AuditEvent.objects.get(kind=Kind.APPROVAL_REJECTED)
    assert row.actor == second and "Not during the peak" in row.message
    with pytest.raises(ApprovalDecided):
        decide.approve(approval_id=approval.pk, actor=second)
    assert AllocationJob.objects.count() == 0 and sim_moves(simulator) == []


def test_a_pending_approval_expires_by_the_beat_task_on_the_worker(
    directory, worker, four_eyes, supervisor, second, simulator
):
    agents, source, target = pick_move(directory, count=2)
    approval = _request(supervisor, agents, source, target)
    assert decide.expire_due(timezone.now() + timedelta(minutes=29)) == 0  # not due yet
    # The beat's task on the worker, its clock moved past the expiry instead of slept through.
    expire_approvals_task.delay((timezone.now() + timedelta(minutes=31)).isoformat())

    def expired():
        approval.refresh_from_db()
        return approval.status == Approval.Status.EXPIRED

    wait_for(expired, what="the approval to expire")
    assert AuditEvent.objects.filter(kind=Kind.APPROVAL_EXPIRED, actor=None).count() == 1
    with pytest.raises(ApprovalDecided):
        decide.approve(approval_id=approval.pk, actor=second)
    assert AllocationJob.objects.count() == 0 and sim_moves(simulator) == []


def test_the_re_preview_shows_what_changed_and_the_approval_runs_against_the_roster_of_now(
    directory, worker, four_eyes, supervisor, second, simulator, django_user_model
):
    agents, source, target = pick_move(directory, count=3)
    approval = _request(supervisor, agents[:2], source, target)
    # Meanwhile an admin moves one of those agents out of the source campaign (one agent: no
    # approval needed).
    admin = _user(django_user_model, "ada", "admin")
    other, _ = job_submit(
        actor=admin, agent_ids=[agents[0]], campaign_ids_out=[source], reason="Break"
    )
    assert wait_terminal(other).status == AllocationJob.Status.SUCCEEDED
    seen = review(approval)
    name = Agent.objects.get(pk=agents[0]).name
    assert seen.changed
    assert any(name in line and "Moved by someone" in line for line in seen.changes)
    assert seen.preview.stale == [name]
    # Approving against what the requester saw is refused (audited), the approval stays pending.
    with pytest.raises(MoveConflict):
        decide.approve(
            approval_id=approval.pk, actor=second, expected_versions=approval.snapshot["versions"]
        )
    approval.refresh_from_db()
    assert approval.status == Approval.Status.PENDING
    assert AuditEvent.objects.filter(kind=Kind.REFUSED, actor=supervisor).exists()
    # Against the re-preview it runs.
    decide.approve(approval_id=approval.pk, actor=second, expected_versions=seen.versions)
    approval.refresh_from_db()
    assert wait_terminal(approval.job).status == AllocationJob.Status.SUCCEEDED


def test_the_requester_cannot_approve_their_own_move(
    directory, worker, four_eyes, supervisor, simulator
):
    agents, source, target = pick_move(directory, count=2)
    approval = _request(supervisor, agents, source, target)
    with pytest.raises(NotYourApproval) as refused:
        decide.approve(approval_id=approval.pk, actor=supervisor, reason="me")
    assert refused.value.status == 403
    with pytest.raises(NotYourApproval):
        decide.reject(approval_id=approval.pk, actor=supervisor, reason="me")
    approval.refresh_from_db()
    assert approval.status == Approval.Status.PENDING
    assert AuditEvent.objects.filter(kind=Kind.REFUSED, actor=supervisor).count() == 2
    assert AllocationJob.objects.count() == 0 and sim_moves(simulator) == []


def test_scope_is_enforced_on_approval(
    directory, worker, four_eyes, supervisor, second, simulator, django_user_model
):
    four_eyes.APPROVAL_THRESHOLD_AGENTS = 50  # only scope makes it wait
    agents, source, target = pick_move(directory, count=1)
    agent = Agent.objects.get(pk=agents[0])
    theirs = set(agent.workgroups.values_list("id", flat=True))
    others = Agent.objects.exclude(workgroups__id__in=theirs).first()
    assert others is not None, "the seed has agents in more than one workgroup"
    elsewhere = others.workgroups.first()
    for user in (supervisor, second):
        SupervisorScope.objects.create(user=user).workgroups.add(elsewhere)
    approval = _request(supervisor, agents, source, target)
    assert approval.needs == ["out_of_scope"]
    with pytest.raises(NotYourApproval) as refused:
        decide.approve(approval_id=approval.pk, actor=second)
    assert "outside your workgroups" in refused.value.message
    home = _user(django_user_model, "home")
    SupervisorScope.objects.create(user=home).workgroups.add(*agent.workgroups.all())
    decide.approve(approval_id=approval.pk, actor=home, expected_versions=review(approval).versions)
    approval.refresh_from_db()
    assert wait_terminal(approval.job).status == AllocationJob.Status.SUCCEEDED
    wait_for(lambda: [m["agentIds"] for m in sim_moves(simulator)] == [agents], what="the move")


def test_a_reason_code_is_required_where_configured(
    directory, worker, four_eyes, supervisor, second, simulator
):
    four_eyes.APPROVAL_REASON_CODE_FOR = frozenset({"large"})
    ReasonCode.objects.create(code="LAUNCH", label="Campaign launch")
    agents, source, target = pick_move(directory, count=2)
    base = {"agent_ids": agents, "campaign_ids_in": [target], "campaign_ids_out": [source]}
    with pytest.raises(InvalidMove) as missing:
        job_submit(actor=supervisor, reason_code="", **base)
    assert "reason" in missing.value.fields
    with pytest.raises(InvalidMove):
        job_submit(actor=supervisor, reason_code="NOPE", **base)
    # A small move needs no code.
    job, _ = job_submit(actor=supervisor, reason_code="", **{**base, "agent_ids": agents[:1]})
    wait_terminal(job)
    approval = _request(supervisor, agents, source, target, reason_code="LAUNCH")
    assert approval.reason == "LAUNCH: Renewal push"
    decide.approve(
        approval_id=approval.pk, actor=second, expected_versions=review(approval).versions
    )
    approval.refresh_from_db()
    job = wait_terminal(approval.job)
    assert job.reason == "LAUNCH: Renewal push"
    wait_for(lambda: len(sim_moves(simulator)) == 2, what="both moves applied")


def test_two_approvers_at_once_give_one_decision_and_one_job(
    directory, worker, four_eyes, supervisor, second, simulator, django_user_model
):
    import threading

    from django.db import connection

    agents, source, target = pick_move(directory, count=2)
    approval = _request(supervisor, agents, source, target)
    third = _user(django_user_model, "sup3")
    versions = review(approval).versions
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def decide_as(user):
        try:
            start.wait(timeout=10)
            decide.approve(approval_id=approval.pk, actor=user, expected_versions=versions)
            outcomes.append("approved")
        except ApprovalDecided:
            outcomes.append("already decided")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide_as, args=(u,)) for u in (second, third)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["already decided", "approved"]
    assert AllocationJob.objects.count() == 1
    assert AuditEvent.objects.filter(kind=Kind.APPROVAL_GRANTED).count() == 1
    approval.refresh_from_db()
    assert wait_terminal(approval.job).status == AllocationJob.Status.SUCCEEDED
    wait_for(lambda: len(sim_moves(simulator)) == 1, what="one move at the simulator")
