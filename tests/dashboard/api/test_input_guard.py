"""NUL characters anywhere in a request are a 400 naming where, never a database error (found by
the fuzz drill: PostgreSQL answered 500 to a NUL in a filter or a JSON string)."""

from __future__ import annotations

import json

import pytest

from dashboard.allocations.models import AllocationJob

from .conftest import token_for

pytestmark = pytest.mark.postgres_too


@pytest.fixture
def token_headers(mover):
    return {"Authorization": f"Token {token_for(mover)}"}


def test_a_nul_in_an_api_filter_is_named(client, token_headers, dir_small):
    response = client.get("/api/agents", {"workgroup": "Sa\x00les"}, headers=token_headers)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "workgroup must not contain NUL characters (U+0000)",
        "errors": {"workgroup": "must not contain NUL characters (U+0000)"},
    }


def test_a_nul_in_a_json_body_queues_nothing(client, token_headers, dir_small):
    body = {"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"], "reason": "dry\x00run"}
    response = client.post(
        "/api/allocations", json.dumps(body), content_type="application/json", headers=token_headers
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "the JSON body": "must not contain NUL characters (U+0000)"
    }
    assert not AllocationJob.objects.exists()


def test_a_nul_in_a_form_field(client, mover, dir_small):
    client.force_login(mover)
    response = client.post("/moves/", {"agent_ids": ["a1\x00"], "campaign_ids_in": ["{C2}"]})
    assert response.status_code == 400
    assert "agent_ids must not contain NUL" in response.text
    assert not AllocationJob.objects.exists()


def test_a_nul_in_a_page_filter_or_address(client, auditor):
    client.force_login(auditor)
    assert client.get("/audit/", {"q": "\x00"}).status_code == 400
    assert client.get("/agents/a%001/").status_code == 400


def test_clean_input_passes(client, token_headers, dir_small):
    assert (
        client.get("/api/agents", {"workgroup": "Sales"}, headers=token_headers).status_code == 200
    )


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("reason", {"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"], "reason": "x\ud800"}),
        ("agent_ids", {"agent_ids": ["a\ud800"], "campaign_ids_in": ["{C2}"]}),
        ("campaign_ids_in", {"agent_ids": ["a1"], "campaign_ids_in": ["{C\ud800}"]}),
        ("campaign_ids_out", {"agent_ids": ["a1"], "campaign_ids_out": ["\udfff"]}),
    ],
)
def test_a_lone_surrogate_in_a_json_body_is_a_400_naming_the_field(
    client, token_headers, dir_small, field, body
):
    # json.dumps writes "\ud800" as an escape: the server's JSON parser makes it a lone
    # surrogate, which neither database can store (this was a 500).
    response = client.post(
        "/api/allocations", json.dumps(body), content_type="application/json", headers=token_headers
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not AllocationJob.objects.exists()


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_a_non_standard_json_number_queues_nothing(client, token_headers, dir_small, token):
    """Python's json writes NaN and infinities (the fuzz drill sends them): never a 500."""
    body = '{"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"], "reason": ' + token + "}"
    response = client.post(
        "/api/allocations", body, content_type="application/json", headers=token_headers
    )
    assert 400 <= response.status_code < 500, response.content
    assert not AllocationJob.objects.exists()
