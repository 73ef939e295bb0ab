"""Creating and changing plans: validation by field, roles and scope, the audit rows."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from dashboard.accounts.models import SupervisorScope
from dashboard.allocations.errors import InvalidMove
from dashboard.allocations.submit import job_submit
from dashboard.audit.models import AuditEvent
from dashboard.plans.errors import InvalidPlan, PlanConflict, PlanForbidden
from dashboard.plans.models import Plan
from dashboard.plans.services import (
    plan_create,
    plan_delete,
    plan_pause,
    plan_resume,
    plan_update,
)
from tests.dashboard.plans.conftest import plan_data

Kind = AuditEvent.Kind
pytestmark = pytest.mark.postgres_too


def test_create_is_audited_with_the_plan(dir_small, mover):
    plan, created = plan_create(actor=mover, data=plan_data())
    assert created and plan.status == Plan.Status.ACTIVE
    row = AuditEvent.objects.get(kind=Kind.PLAN_CREATED)
    assert row.actor == mover and row.details["plan_id"] == plan.pk
    assert row.details["plan_name"] == "Evening renewals" and "Europe/Berlin" in row.message


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"name": " "}, "name", "give the plan a name"),
        ({"agent_ids": ["nobody"]}, "agent_ids", "unknown agents: nobody"),
        ({"agent_ids": [], "workgroup_id": None}, "agent_ids", "at least one agent"),
        ({"workgroup_id": "Sales"}, "agent_ids", "not both"),
        ({"campaign_ids_in": ["{C1}"]}, "campaign_ids_out", "both in and out"),
        ({"time_zone": "Berlin"}, "time_zone", "unknown time zone"),
        ({"start": "tomorrow"}, "start", "is not a date and time"),
        ({"start": "2030-03-29T17:00+01:00"}, "start", "without an offset"),
        ({"end_time": "16:00"}, "end_time", "after the start time"),
        ({"start": "2001-01-01T17:00"}, "start", "no run left in the future"),
        ({"repeat": "weekdays", "weekdays": []}, "weekdays", "at least one weekday"),
        ({"repeat": "weekdays", "weekdays": [7]}, "weekdays", "0 (Monday) to 6"),
        ({"repeat": "days", "days": ["2030-02-30"]}, "days", "is not a date"),
        # Every bad date named, not only the last.
        (
            {"repeat": "days", "days": ["2030-02-30", "2030-04-01", "soon"]},
            "days",
            "'2030-02-30', 'soon' are not dates",
        ),
        ({"repeat": "days", "days": [{"a": 1}]}, "days", "is not a date"),
        ({"repeat": "weekdays", "weekdays": [0], "until": "2030-01-01"}, "until", "on or after"),
        ({"reason": "a\u202eb"}, "reason", "text-direction"),
    ],
)
def test_invalid_fields_are_named(dir_small, mover, overrides, field, words):
    with pytest.raises(InvalidPlan) as caught:
        plan_create(actor=mover, data=plan_data(**overrides))
    assert words in caught.value.fields[field]
    assert not Plan.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        "a\u2060b",  # word joiner (Cf): the old plan rule let it through, the move's refuses it
        "a\u2028b",  # line separator (Zl)
        "a\u200bb",  # zero-width space
        "a\ud800b",  # a lone surrogate: cannot be stored
        "a\x07b",
    ],
)
def test_a_plans_text_and_ids_follow_the_moves_rule(dir_small, mover, text):
    """A plan's reason and ids become a move's at its run: what the move refuses, the plan does."""
    with pytest.raises(InvalidMove) as move:
        job_submit(actor=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"], reason=text)
    with pytest.raises(InvalidPlan) as plan:
        plan_create(actor=mover, data=plan_data(reason=text, name=text, campaign_ids_in=[text]))
    assert plan.value.fields["reason"] == move.value.fields["reason"]
    assert plan.value.fields["name"] == move.value.fields["reason"]
    with pytest.raises(InvalidMove) as move_ids:
        job_submit(actor=mover, agent_ids=["a1"], campaign_ids_in=[text])
    assert plan.value.fields["campaign_ids_in"] == move_ids.value.fields["campaign_ids_in"]


def test_a_plans_reason_may_have_lines_as_a_moves_may_but_its_name_is_one_line(dir_small, mover):
    plan, _ = plan_create(actor=mover, data=plan_data(reason="cover\nfor Ana"))
    assert plan.reason == "cover\nfor Ana"
    with pytest.raises(InvalidPlan) as caught:
        plan_create(actor=mover, data=plan_data(name="Evening\nrenewals"))
    assert caught.value.fields["name"] == "must be one line"


def test_overnight_end(dir_small, mover):
    plan, _ = plan_create(actor=mover, data=plan_data(end_time="06:00", end_next_day=True))
    assert plan.end_day_offset == 1


def test_idempotency_key_returns_the_same_plan(dir_small, mover):
    first, created = plan_create(actor=mover, data=plan_data(), idempotency_key="k1")
    again, created_again = plan_create(actor=mover, data=plan_data(), idempotency_key="k1")
    assert created and not created_again and again.pk == first.pk
    assert Plan.objects.count() == 1


def test_auditor_and_roleless_users_are_refused_and_audited(dir_small, auditor, no_role_user):
    for user in (auditor, no_role_user):
        with pytest.raises(PlanForbidden, match="may not move agents"):
            plan_create(actor=user, data=plan_data())
    assert AuditEvent.objects.filter(kind=Kind.REFUSED).count() == 2
    assert not Plan.objects.exists()


def test_scope_is_the_moves_scope(dir_small, mover):
    scope = SupervisorScope.objects.create(user=mover)
    scope.workgroups.add(dir_small["groups"][0])  # Sales: a1, a2
    plan_create(actor=mover, data=plan_data())
    with pytest.raises(PlanForbidden, match="outside your workgroups: a3"):
        plan_create(actor=mover, data=plan_data(agent_ids=["a3"]))
    with pytest.raises(PlanForbidden, match="workgroup Care"):
        plan_create(actor=mover, data=plan_data(agent_ids=[], workgroup_id="Care"))
    plan_create(actor=mover, data=plan_data(agent_ids=[], workgroup_id="Sales"))


def test_edit_applies_from_the_next_run_and_is_audited(dir_small, mover):
    plan, _ = plan_create(actor=mover, data=plan_data())
    before = plan.runs_from
    edited = plan_update(actor=mover, plan_id=plan.pk, data=plan_data(end_time="20:00"))
    assert edited.revision == 2 and edited.runs_from >= before
    row = AuditEvent.objects.get(kind=Kind.PLAN_CHANGED)
    assert row.details["changed"]["end"] == {"from": "19:00", "to": "20:00"}
    assert "from its next run" in row.message


def test_pause_resume_delete_are_audited(dir_small, mover):
    plan, _ = plan_create(actor=mover, data=plan_data())
    plan_pause(actor=mover, plan_id=plan.pk)
    plan_pause(actor=mover, plan_id=plan.pk)  # repeated: no second row
    later = timezone.now() + timedelta(seconds=1)
    resumed = plan_resume(actor=mover, plan_id=plan.pk)
    assert resumed.runs_from <= later
    plan_delete(actor=mover, plan_id=plan.pk)
    rows = AuditEvent.objects.filter(kind__startswith="plan_").order_by("id")
    kinds = list(rows.values_list("kind", flat=True))
    assert kinds == [Kind.PLAN_CREATED, Kind.PLAN_PAUSED, Kind.PLAN_RESUMED, Kind.PLAN_DELETED]
    with pytest.raises(PlanConflict, match="deleted"):
        plan_resume(actor=mover, plan_id=plan.pk)
    with pytest.raises(PlanConflict, match="deleted"):
        plan_update(actor=mover, plan_id=plan.pk, data=plan_data())


def test_another_supervisor_out_of_scope_may_not_pause(dir_small, mover, django_user_model):
    plan, _ = plan_create(actor=mover, data=plan_data())
    other = django_user_model.objects.create_user("other", password="pw-for-tests-only")
    other.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    SupervisorScope.objects.create(user=other).workgroups.add(dir_small["groups"][1])
    with pytest.raises(PlanForbidden):
        plan_pause(actor=other, plan_id=plan.pk)
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.ACTIVE


def test_plan_waits_for_approval_when_the_site_asks(dir_small, mover, admin_user_role, settings):
    from dashboard.approvals.decide import approve

    settings.APPROVAL_REQUIRED_FOR = frozenset({"plan"})
    plan, _ = plan_create(actor=mover, data=plan_data())
    assert plan.status == Plan.Status.AWAITING and plan.approval is not None
    assert plan.approval.subject_id == plan.pk
    approve(approval_id=plan.approval.pk, actor=admin_user_role, reason="ok")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ACTIVE
