"""/api/plans: the same services, roles and scope as the pages, and the OpenAPI schema."""

import pytest

from dashboard.plans.models import Plan
from tests.dashboard.api.conftest import token_for
from tests.dashboard.plans.conftest import plan_data

pytestmark = pytest.mark.postgres_too


def call(client, method, path, user, body=None, **headers):
    headers = {"Authorization": f"Token {token_for(user)}", **headers}
    kwargs = {"content_type": "application/json", "headers": headers}
    if body is not None:
        kwargs["data"] = body
    return getattr(client, method)(path, **kwargs)


def test_create_with_idempotency_key_then_read(client, dir_small, mover):
    first = call(client, "post", "/api/plans", mover, plan_data(), **{"Idempotency-Key": "k"})
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["status"] == "active" and body["time_zone"] == "Europe/Berlin"
    assert body["next_runs"][0]["start"] == "2030-03-29T17:00:00+01:00"  # CET until 03-31
    assert body["next_runs"][0]["headcounts"][0] == {
        "campaign_id": "{C2}",
        "name": "Winback",
        "before": 0,
        "after": 2,
    }
    again = call(client, "post", "/api/plans", mover, plan_data(), **{"Idempotency-Key": "k"})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Plan.objects.count() == 1
    got = call(client, "get", body["url"], mover)
    assert got.status_code == 200 and got.json()["runs"] == []
    listed = call(client, "get", "/api/plans", mover).json()["items"]
    assert [p["name"] for p in listed] == ["Evening renewals"]


def test_invalid_body_names_fields(client, dir_small, mover):
    response = call(client, "post", "/api/plans", mover, plan_data(time_zone="X", end_time="1"))
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"time_zone", "end_time"}
    unknown = call(client, "post", "/api/plans", mover, {**plan_data(), "colour": "red"})
    assert unknown.status_code == 400 and unknown.json()["errors"]["colour"] == "unknown field"


def test_roles_on_every_call(client, dir_small, mover, auditor):
    created = call(client, "post", "/api/plans", mover, plan_data()).json()
    refused = call(client, "post", "/api/plans", auditor, plan_data())
    assert refused.status_code == 403 and "may not move agents" in refused.json()["detail"]
    assert call(client, "get", created["url"], auditor).status_code == 200
    assert call(client, "post", f"{created['url']}/pause", auditor).status_code == 403
    assert client.get("/api/plans").status_code == 401


def test_pause_resume_delete(client, dir_small, mover):
    url = call(client, "post", "/api/plans", mover, plan_data()).json()["url"]
    paused = call(client, "post", f"{url}/pause", mover).json()
    assert paused["status"] == "paused" and paused["next_runs"] == []
    assert call(client, "post", f"{url}/resume", mover).json()["status"] == "active"
    assert call(client, "delete", url, mover).json()["status"] == "deleted"
    conflict = call(client, "post", f"{url}/resume", mover)
    assert conflict.status_code == 409 and "deleted" in conflict.json()["detail"]
    assert call(client, "get", "/api/plans/999", mover).status_code == 404


def test_in_the_openapi_schema(client, dir_small, mover):
    schema = call(client, "get", "/api/openapi.json", mover).json()
    assert {"/api/plans", "/api/plans/{plan_id}", "/api/plans/{plan_id}/pause"} <= set(
        schema["paths"]
    )
    assert "Idempotency-Key" in str(schema["paths"]["/api/plans"]["post"]["parameters"])
