"""The plan pages: list, form with its messages and time zone, from the board, detail, actions."""

import pytest
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from dashboard.plans.models import Plan
from dashboard.plans.services import plan_create
from tests.dashboard.plans.conftest import plan_data

pytestmark = pytest.mark.postgres_too


def form(**overrides) -> dict:
    data = {
        "name": "Evening renewals",
        "who": "agents",
        "agent_ids": "a1\na2",
        "campaign_ids_in": ["{C2}"],
        "campaign_ids_out": ["{C1}"],
        "time_zone": "Europe/Berlin",
        "start": "2030-03-29T17:00",
        "end_time": "19:00",
        "repeat": "weekdays",
        "weekdays": ["0", "4"],
        "until": "2030-04-30",
        "idempotency_key": "form-key-1",
    }
    data.update(overrides)
    return data


def test_pages_need_sign_in(client, dir_small):
    for name in ("plan-list", "plan-new"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_empty_list_and_nav_link(client, dir_small, mover):
    client.force_login(mover)
    page = client.get(reverse("plan-list")).content.decode()
    assert "No plans yet." in page and 'href="/plans/new"' in page
    assert 'href="/plans/" aria-current="page">Plans</a>' in page


def test_form_shows_the_zone_and_saves(client, dir_small, mover):
    client.force_login(mover)
    page = client.get(reverse("plan-new")).content.decode()
    assert "The site's zone is UTC" in page and 'name="time_zone"' in page
    response = client.post(reverse("plan-new"), form())
    plan = Plan.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/plans/{plan.pk}/"
    assert plan.weekdays == [0, 4] and plan.agent_ids == ["a1", "a2"]
    # The same form posted twice (a double click) is one plan.
    client.post(reverse("plan-new"), form())
    assert Plan.objects.count() == 1


def test_form_errors_are_shown_beside_their_fields(client, dir_small, mover):
    client.force_login(mover)
    response = client.post(reverse("plan-new"), form(time_zone="Mars/Olympus", end_time="16:00"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "unknown time zone &#x27;Mars/Olympus&#x27;" in page
    assert 'id="e-end_time"' in page and "after the start time" in page
    # The summary names the fields as the form labels them, not by their names in the POST.
    assert '<a href="#f-time_zone">Time zone</a>:' in page and ">time_zone<" not in page
    assert '<a href="#f-end_time">Ends at</a>:' in page
    assert 'value="Evening renewals"' in page  # what was typed is kept
    assert not Plan.objects.exists()


def test_auditor_may_read_but_not_create(client, dir_small, mover, auditor):
    plan, _ = plan_create(actor=mover, data=plan_data())
    client.force_login(auditor)
    assert client.get(reverse("plan-detail", args=[plan.pk])).status_code == 200
    assert client.get(reverse("plan-new")).status_code == 403
    assert client.post(reverse("plan-new"), form()).status_code == 403
    assert client.post(reverse("plan-pause", args=[plan.pk])).status_code == 403


def test_from_board_fills_the_form_with_the_selection(client, dir_small, mover):
    client.force_login(mover)
    response = client.post(
        reverse("plan-from-board"),
        {"picks": "%7BC1%7D/a1/0\n%7BC1%7D/a2/0", "target": "{C2}", "reason": "Cover <evening>"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "data-plan-from-board" in page
    assert "a1\na2</textarea>" in page and "Agent 1, Agent 2" in page
    assert '<option value="{C2}" selected>' in page and '<option value="{C1}" selected>' in page
    # The reason typed in the dialog, escaped.
    assert 'name="reason" maxlength="500" size="60" value="Cover &lt;evening&gt;"' in page
    assert not Plan.objects.exists()  # nothing saved until the form is


def test_detail_shows_next_runs_with_headcounts(client, dir_small, mover):
    plan, _ = plan_create(actor=mover, data=plan_data(repeat="weekdays", weekdays=[0, 1]))
    client.force_login(mover)
    page = client.get(reverse("plan-detail", args=[plan.pk])).content.decode()
    assert "Mon 2030-04-01 17:00 CEST" in page  # after the spring change, still 17:00
    assert "Renewals 2 → <strong>0</strong>" in page
    assert "Winback 0 → <strong>2</strong>" in page
    assert "No runs yet." in page


def test_pause_resume_and_delete_after_confirmation(client, dir_small, mover):
    plan, _ = plan_create(actor=mover, data=plan_data())
    client.force_login(mover)
    client.post(reverse("plan-pause", args=[plan.pk]))
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.PAUSED
    client.post(reverse("plan-resume", args=[plan.pk]))
    confirm = client.get(reverse("plan-delete", args=[plan.pk])).content.decode()
    assert "Delete plan “Evening renewals”?" in confirm
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.ACTIVE
    response = client.post(reverse("plan-delete", args=[plan.pk]))
    assert response.status_code == 302 and response["Location"] == "/plans/"
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.DELETED
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PLAN_DELETED).count() == 1
    assert "No plans yet." in client.get(reverse("plan-list")).content.decode()


def test_unknown_plan_is_404(client, dir_small, mover):
    client.force_login(mover)
    assert client.get("/plans/999/").status_code == 404
    assert client.post("/plans/999/pause").status_code == 404


def test_the_move_dialog_offers_save_as_plan(client, dir_small, mover):
    client.force_login(mover)
    page = client.get(
        reverse("move-preview"), {"picks": "%7BC1%7D/a1/0", "target": "{C2}"}
    ).content.decode()
    assert 'action="/plans/new/from-board"' in page and "Save as plan…" in page


def test_runs_are_listed_with_their_outcome_in_the_plans_zone(client, dir_small, mover):
    from datetime import UTC, datetime

    from dashboard.plans.run import plans_tick

    plan, _ = plan_create(actor=mover, data=plan_data(agent_ids=["a1", "a3"]))
    plans_tick(datetime(2030, 3, 29, 16, 0, 5, tzinfo=UTC))
    client.force_login(mover)
    page = client.get(reverse("plan-detail", args=[plan.pk])).content.decode()
    run = plan.runs.get()
    assert f'data-run-id="{run.pk}"' in page and 'data-run-status="moved"' in page
    assert "Fri 2030-03-29 17:00 CET" in page and "due" in page and "19:00 CET" in page
    assert f'href="/jobs/{run.job.pk}/"' in page
    assert "Agent 3 (moved since" in page  # who was left out, by name
