"""Who may call which endpoint, and the OpenAPI schema."""

from __future__ import annotations

import pytest

from dashboard.accounts.models import ApiToken

READS = ["/api/agents", "/api/campaigns", "/api/allocations"]


@pytest.mark.parametrize("path", [*READS, "/api/audit"])
def test_no_credentials_is_a_401(client, db, path):
    response = client.get(path)
    assert response.status_code == 401
    assert "Authorization: Token" in response.json()["detail"]


@pytest.mark.parametrize("path", [*READS, "/api/audit"])
def test_a_user_without_a_role_is_a_403(api, no_role_user, path):
    assert api.as_user(no_role_user).get(path).status_code == 403


@pytest.mark.parametrize("path", READS)
def test_an_auditor_may_read_the_directory_and_jobs(api, auditor, path):
    assert api.as_user(auditor).get(path).status_code == 200


def test_a_token_of_an_inactive_user_is_refused(api, mover):
    api.as_user(mover)
    mover.is_active = False
    mover.save()
    assert api.get("/api/agents").status_code == 401


def test_a_deleted_token_is_refused_on_the_next_request(api, mover):
    api.as_user(mover)
    assert api.get("/api/agents").status_code == 200  # the token's statement is kept now
    ApiToken.objects.filter(user=mover).delete()
    assert api.get("/api/agents").status_code == 401


def test_the_tokens_user_is_the_whole_user_with_its_roles(api, django_user_model, dir_small):
    boss = django_user_model.objects.create_superuser("boss", password="pw-for-tests-only")
    boss.first_name = "Bo"
    boss.save()
    api.as_user(boss)
    moved = api.post(
        "/api/allocations",
        {"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]},
    )
    assert moved.status_code == 202, moved.json()  # a superuser is an admin: may move
    job = api.get(moved.json()["url"]).json()
    assert job["requested_by"] == "boss"
    assert ApiToken.objects.get(user=boss).user.first_name == "Bo"


def test_using_a_token_records_when(api, mover):
    api.as_user(mover).get("/api/agents")
    assert ApiToken.objects.get(user=mover).last_used_at is not None


def test_the_session_works_for_reads(client, mover):
    client.force_login(mover)
    assert client.get("/api/agents").status_code == 200


def test_the_openapi_schema_is_served_and_describes_the_endpoints(client, mover):
    client.force_login(mover)  # the schema is for the API's users (issue 17)
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in ("/api/allocations", "/api/allocations/{job_id}", "/api/agents", "/api/audit"):
        assert path in paths, sorted(paths)
    post = paths["/api/allocations"]["post"]
    assert {"200", "202", "400", "403", "409"} <= set(post["responses"])
    params = {p["name"] for p in post["parameters"]}
    assert "Idempotency-Key" in params
    body = schema["components"]["schemas"]["AllocationIn"]
    assert body["additionalProperties"] is False
    assert body["required"] == ["agent_ids"]


def test_the_interactive_docs_are_not_served(client, db):
    # They would load Swagger UI from a CDN, which the CSP blocks.
    assert client.get("/api/docs").status_code == 404
