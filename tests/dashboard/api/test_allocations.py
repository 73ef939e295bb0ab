"""POST/GET /api/allocations: status codes, per-field errors, nothing queued on bad input."""

from __future__ import annotations

import json

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from tests.dashboard.conftest import statements

URL = "/api/allocations"
MOVE = {"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]}


class TestCreate:
    def test_it_queues_a_job_and_answers_202(self, api, mover, dir_small, no_enqueue):
        response = api.as_user(mover).post(URL, {**MOVE, "reason": "Winback is short"})
        assert response.status_code == 202, response.content
        body = response.json()
        job = AllocationJob.objects.get()
        assert body == {"id": job.pk, "status": "queued", "url": f"/api/allocations/{job.pk}"}
        assert job.requested_by == mover
        assert job.reason == "Winback is short"
        assert job.request_id == response["X-Request-ID"]
        no_enqueue.assert_called_once_with(job.pk)

    def test_a_repeated_idempotency_key_returns_the_same_job(self, api, mover, dir_small):
        api.as_user(mover)
        first = api.post(URL, MOVE, headers={"Idempotency-Key": "drop-42"})
        again = api.post(URL, MOVE, headers={"Idempotency-Key": "drop-42"})
        assert first.status_code == 202
        assert again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        assert AllocationJob.objects.count() == 1

    def test_a_key_reused_for_another_move_is_a_409(self, api, mover, dir_small):
        api.as_user(mover)
        api.post(URL, MOVE, headers={"Idempotency-Key": "k"})
        other = api.post(URL, {**MOVE, "agent_ids": ["a2"]}, headers={"Idempotency-Key": "k"})
        assert other.status_code == 409
        assert other.json()["errors"] == {"idempotency_key": "already used for a different move"}

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({}, "agent_ids", "Field required"),
            ({**MOVE, "agent_ids": "a1"}, "agent_ids", "Input should be a valid list"),
            ({**MOVE, "agent_ids": [1]}, "agent_ids.0", "Input should be a valid string"),
            ({**MOVE, "agent_ids": []}, "agent_ids", "select at least one agent"),
            ({**MOVE, "agent_ids": ["a1", "a1"]}, "agent_ids", "lists an id more than once: a1"),
            ({**MOVE, "agent_ids": ["ghost"]}, "agent_ids", "unknown agents: ghost"),
            ({**MOVE, "campaign_ids_in": ["{NOPE}"]}, "campaign_ids_in", "unknown campaigns"),
            ({"agent_ids": ["a1"]}, "campaign_ids_in", "name a campaign"),
            ({**MOVE, "campaign_ids_out": ["{C2}"]}, "campaign_ids_out", "both in and out"),
            ({**MOVE, "reason": "x" * 501}, "reason", "at most 500 characters"),
            ({**MOVE, "reason": 5}, "reason", "Input should be a valid string"),
            ({**MOVE, "agents": ["a1"]}, "agents", "unknown field"),
            ({**MOVE, "expected_versions": {"a1": "x"}}, "expected_versions.a1", "valid integer"),
            ({**MOVE, "expected_versions": {"a9": 0}}, "expected_versions", "not in the move"),
            # JSON true is not version 1 (pydantic's lax mode took it as 1).
            ({**MOVE, "expected_versions": {"a1": True}}, "expected_versions.a1", "valid integer"),
            ({**MOVE, "reason": "short\u200bstaffed"}, "reason", "invisible"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field_and_queues_nothing(
        self, api, mover, dir_small, no_enqueue, body, field, message
    ):
        response = api.as_user(mover).post(URL, body)
        assert response.status_code == 400, response.content
        errors = response.json()["errors"]
        assert field in errors, errors
        assert message in errors[field]
        assert message in response.json()["detail"]
        assert not AllocationJob.objects.exists()
        no_enqueue.assert_not_called()

    @pytest.mark.parametrize("raw", ["{not json", "[]", "null", ""])
    def test_a_body_that_is_not_a_json_object_is_a_400(self, api, mover, dir_small, raw):
        response = api.as_user(mover).post(URL, raw)
        assert response.status_code == 400, response.content
        assert response.json()["detail"]
        assert not AllocationJob.objects.exists()

    def test_an_empty_idempotency_key_is_a_400(self, api, mover, dir_small):
        response = api.as_user(mover).post(URL, MOVE, headers={"Idempotency-Key": "  "})
        assert response.status_code == 400
        assert "idempotency_key" in response.json()["errors"]

    def test_an_auditor_is_refused_with_403_and_the_refusal_is_audited(
        self, api, auditor, dir_small, no_enqueue
    ):
        response = api.as_user(auditor).post(URL, MOVE)
        assert response.status_code == 403
        assert "may not move agents" in response.json()["detail"]
        assert not AllocationJob.objects.exists()
        refusal = AuditEvent.objects.get(kind="refused")
        assert refusal.actor_username == "audrey"
        no_enqueue.assert_not_called()

    def test_a_stale_roster_version_is_a_409(self, api, mover, dir_small):
        response = api.as_user(mover).post(URL, {**MOVE, "expected_versions": {"a1": 7}})
        assert response.status_code == 409
        detail = response.json()["detail"]
        assert "roster changed" in detail
        assert "moved meanwhile: Agent 1 (a1))" in detail  # by name, with the id ICWS knows
        assert not AllocationJob.objects.exists()

    def test_the_current_roster_version_is_accepted(self, api, mover, dir_small):
        response = api.as_user(mover).post(URL, {**MOVE, "expected_versions": {"a1": 0}})
        assert response.status_code == 202
        assert AllocationJob.objects.get().expected_versions == {"a1": 0}


class TestRead:
    def test_it_shows_a_job_with_its_batches(self, api, mover, dir_small):
        api.as_user(mover)
        job_id = api.post(URL, MOVE).json()["id"]
        body = api.get(f"{URL}/{job_id}").json()
        assert body["status"] == "queued"
        assert body["requested_by"] == "mover"
        assert body["agent_ids"] == ["a1"]
        assert body["batches"] == [
            {
                "index": 0,
                "agent_ids": ["a1"],
                "status": "pending",
                "attempts": 0,
                "error_status": None,
                "error_id": "",
                "error_message": "",
            }
        ]

    def test_a_job_reads_as_the_list_built_by_the_orm_shows_it(
        self, api, mover, dir_small, settings
    ):
        settings.ALLOCATION_BATCH_SIZE = 1
        api.as_user(mover)
        job_id = api.post(URL, {**MOVE, "agent_ids": ["a1", "a2"], "reason": "Ré"}).json()["id"]
        job = AllocationJob.objects.get(pk=job_id)
        job.batches.filter(index=1).update(status="failed", error_status=400, error_id="x.y")
        AllocationJob.objects.filter(pk=job_id).update(
            status="failed", started_at=job.created_at, finished_at=job.created_at, attempts=2
        )
        with statements() as seen:
            body = api.get(f"{URL}/{job_id}").json()
        assert body == api.get(URL).json()["items"][0]
        assert [b["index"] for b in body["batches"]] == [0, 1]
        assert body["batches"][1]["error_id"] == "x.y" and body["attempts"] == 2
        assert body["started_at"] is not None and body["reason"] == "Ré"
        assert len([s for s in seen if "allocations_" in s]) == 2, seen  # job, batches

    @pytest.mark.parametrize("job_id", ["999", str(2**63), "2140019627059081647642964083605504"])
    def test_an_unknown_job_is_a_404(self, api, mover, dir_small, job_id):
        """An id past any job's (past bigint's range too: the fuzz drill's 500) is no job."""
        response = api.as_user(mover).get(f"{URL}/{job_id}")
        assert response.status_code == 404

    def test_the_list_pages_with_a_keyset_cursor(self, api, mover, dir_small):
        api.as_user(mover)
        ids = [
            api.post(URL, {**MOVE, "agent_ids": [agent]}).json()["id"]
            for agent in ("a1", "a2", "a3")
        ]
        first = api.get(URL, {"limit": 2}).json()
        assert [j["id"] for j in first["items"]] == ids[::-1][:2]
        second = api.get(first["next"]).json()
        assert [j["id"] for j in second["items"]] == [ids[0]]
        assert second["next"] is None

    def test_cancel_ends_a_queued_job(self, api, mover, dir_small):
        api.as_user(mover)
        job_id = api.post(URL, MOVE).json()["id"]
        response = api.post(f"{URL}/{job_id}/cancel")
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        again = api.post(f"{URL}/{job_id}/cancel")
        assert again.status_code == 409
        assert "cannot be cancelled" in again.json()["detail"]


def test_session_posts_need_the_csrf_token(mover, dir_small):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(mover)
    refused = strict.post(URL, json.dumps(MOVE), content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not AllocationJob.objects.exists()

    secret = _get_new_csrf_string()
    strict.cookies["csrftoken"] = secret
    accepted = strict.post(
        URL, json.dumps(MOVE), content_type="application/json", headers={"X-CSRFToken": secret}
    )
    assert accepted.status_code == 202, accepted.content


def test_without_credentials_it_is_a_401_not_a_login_redirect(client, dir_small):
    response = client.post(URL, MOVE, content_type="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert client.get(URL, headers={"Authorization": "Token wrong"}).status_code == 401
    assert client.get(URL, headers={"Authorization": "Bearer x"}).status_code == 401


def test_a_jobs_url_is_what_reverse_gives_under_any_script_prefix():
    from django.urls import get_script_prefix, reverse, set_script_prefix

    from dashboard.api.schemas import job_url

    before = get_script_prefix()
    try:
        for prefix in ("/", "/dashboard/"):
            set_script_prefix(prefix)
            for pk in (1, 42, 987654321, 10**12):
                assert job_url(pk) == reverse("api:allocation_detail", args=[pk])
        assert job_url(7) == "/dashboard/api/allocations/7"
    finally:
        set_script_prefix(before)
