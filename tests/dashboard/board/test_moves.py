"""The move preview (confirmation) and submit, with and without htmx."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent, Campaign, RosterEntry

HX = {"HX-Request": "true"}


def pick(column: str, agent: str, version: int = 0) -> str:
    return f"{quote(column, safe='')}/{quote(agent, safe='')}/{version}"


@pytest.fixture(autouse=True)
def no_enqueue():
    from unittest import mock

    from dashboard.allocations import services

    with mock.patch.object(services, "_enqueue_on_commit", autospec=True) as enqueue:
        yield enqueue


class TestPreview:
    def test_it_previews_headcounts_and_the_hidden_fields(self, client, mover, dir_small):
        client.force_login(mover)
        response = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C2}"}, headers=HX
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "Move Agent 1 to Winback" in html
        assert "<html" not in html  # the dialog body only
        assert 'name="campaign_ids_in" value="{C2}"' in html
        assert 'name="campaign_ids_out" value="{C1}"' in html
        assert 'name="expected" value="a1:0"' in html
        assert "2 → <strong>1</strong>" in html  # Renewals loses one
        assert "0 → <strong>1</strong>" in html  # Winback gains one

    def test_it_warns_about_calls_off_campaigns_and_agents_left_without_one(
        self, client, mover, dir_small
    ):
        Agent.objects.filter(id="a1").update(on_phone=True, logged_in=True)
        client.force_login(mover)
        html = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C3}"}
        ).content.decode()
        assert "On a call now: Agent 1" in html
        assert "Surveys is off" in html
        unassign = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": ""}
        ).content.decode()
        assert "Left in no campaign: Agent 1" in unassign

    def test_a_selection_from_several_columns_says_who_leaves_a_column_they_were_not_picked_from(
        self, client, mover, dir_small
    ):
        _, _, c3 = dir_small["campaigns"]
        a1, _, a3, _ = dir_small["agents"]
        RosterEntry.objects.create(agent=a1, campaign=c3)
        RosterEntry.objects.create(agent=a3, campaign=c3)
        client.force_login(mover)
        html = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1"), pick("{C3}", "a3")], "target": "{C2}"}
        ).content.decode()
        assert "each agent leaves every one of them: Agent 1 (also leaves Surveys)" in html
        assert "Agent 3 (also" not in html
        one_column = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C2}"}
        ).content.decode()
        assert "also leaves" not in one_column

    def test_a_card_moved_since_the_board_loaded_is_flagged(self, client, mover, dir_small):
        Agent.objects.filter(id="a1").update(roster_version=3)
        client.force_login(mover)
        html = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1", 2)], "target": "{C2}"}
        ).content.decode()
        assert "Moved by someone else since your board loaded: Agent 1" in html

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"target": "{C2}"}, "Select at least one agent"),
            ({"pick": ["garbage"], "target": "{C2}"}, "could not be read"),
            ({"pick": [pick("{C1}", "ghost")], "target": "{C2}"}, "Unknown or inactive agents"),
            ({"pick": [pick("{C1}", "a1")], "target": "{GONE}"}, "no longer exists"),
            ({"pick": [pick("{C1}", "a1")], "target": "{C1}"}, "already in that campaign"),
            ({"pick": [pick("", "a3")], "target": ""}, "already unassigned"),
        ],
    )
    def test_bad_picks_get_a_clear_message(self, client, mover, dir_small, params, message):
        client.force_login(mover)
        response = client.get("/moves/preview", params, headers=HX)
        assert response.status_code == 400
        assert message in response.content.decode()

    def test_an_auditor_may_not_open_it(self, client, auditor, dir_small):
        client.force_login(auditor)
        response = client.get("/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C2}"})
        assert response.status_code == 403


def _submit(client, headers=None, **fields):
    data = {
        "agent_ids": ["a1"],
        "campaign_ids_in": ["{C2}"],
        "campaign_ids_out": ["{C1}"],
        "expected": ["a1:0"],
        "reason": "Winback short",
        "idempotency_key": "k-1",
    }
    data.update(fields)
    return client.post("/moves/", data, headers=headers or {})


class TestSubmit:
    def test_with_htmx_it_answers_the_polling_job_status(self, client, mover, dir_small):
        client.force_login(mover)
        response = _submit(client, headers=HX)
        job = AllocationJob.objects.get()
        html = response.content.decode()
        assert response.status_code == 200
        assert f'data-job-id="{job.pk}"' in html
        assert 'data-job-status="queued"' in html
        assert f'hx-get="/jobs/{job.pk}/status"' in html
        assert "jobSubmitted" in response["HX-Trigger"]
        assert job.reason == "Winback short"
        assert job.expected_versions == {"a1": 0}

    def test_without_htmx_it_redirects_to_the_job(self, client, mover, dir_small):
        client.force_login(mover)
        response = _submit(client)
        job = AllocationJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/jobs/{job.pk}/"

    def test_a_double_submit_makes_one_job(self, client, mover, dir_small):
        client.force_login(mover)
        _submit(client, headers=HX)
        _submit(client, headers=HX)
        assert AllocationJob.objects.count() == 1

    def test_a_stale_roster_is_a_conflict_shown_in_the_dialog(self, client, mover, dir_small):
        Agent.objects.filter(id="a1").update(roster_version=5)
        client.force_login(mover)
        response = _submit(client, headers=HX)
        assert response.status_code == 409
        assert response["HX-Retarget"] == "#move-dialog-body"
        assert "roster changed" in response.content.decode()
        assert not AllocationJob.objects.exists()

    def test_bad_fields_are_refused_with_the_field_named(self, client, mover, dir_small):
        client.force_login(mover)
        response = _submit(client, headers=HX, reason="x" * 501)
        assert response.status_code == 400
        assert "reason: at most 500 characters" in response.content.decode()
        response = _submit(client, headers=HX, expected=["a1:x"])
        assert response.status_code == 400
        assert "roster versions" in response.content.decode()
        assert not AllocationJob.objects.exists()

    def test_an_auditor_is_refused(self, client, auditor, dir_small):
        client.force_login(auditor)
        assert _submit(client, headers=HX).status_code == 403
        assert not AllocationJob.objects.exists()

    def test_csrf_is_required(self, mover, dir_small):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        strict.force_login(mover)
        assert _submit(strict, headers=HX).status_code == 403
        assert not AuditEvent.objects.filter(kind="requested").exists()


def test_campaign_names_with_markup_are_escaped_in_the_preview(client, mover, dir_small):
    Campaign.objects.filter(id="{C2}").update(name="<img src=x onerror=alert(1)>")
    client.force_login(mover)
    html = client.get(
        "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C2}"}
    ).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
