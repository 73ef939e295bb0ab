"""Reason codes: managed in the Django admin, offered by the move dialog, required where set."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from dashboard.allocations import submit
from dashboard.allocations.models import AllocationJob
from dashboard.approvals.models import ReasonCode

pytestmark = pytest.mark.postgres_too
PICKS = {"picks": "%7BC1%7D/a1/0", "target": "{C2}"}


@pytest.fixture(autouse=True)
def no_enqueue():
    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True):
        yield


def test_an_admin_adds_a_code_and_cannot_delete_one(client, django_user_model, db):
    admin = django_user_model.objects.create_superuser("root", password="pw-for-tests-only")
    client.force_login(admin)
    added = client.post(
        "/admin/approvals/reasoncode/add/",
        {"code": "SICK", "label": "Sickness cover", "active": "on", "sort_order": "1"},
    )
    assert added.status_code == 302, added.content[:500]
    code = ReasonCode.objects.get(code="SICK")
    assert client.get("/admin/approvals/reasoncode/").status_code == 200
    assert client.post(f"/admin/approvals/reasoncode/{code.pk}/delete/").status_code == 403
    assert client.get("/admin/approvals/approval/add/").status_code == 403


def test_the_move_dialog_offers_active_codes_only_when_there_are_some(client, mover, dir_small):
    client.force_login(mover)
    dialog = client.get(reverse("move-preview"), {"pick": "%7BC1%7D/a1/0", "target": "{C2}"})
    assert dialog.status_code == 200 and b"data-move-reason-code" not in dialog.content
    ReasonCode.objects.create(code="SICK", label="Sickness cover")
    ReasonCode.objects.create(code="OLD", label="Retired reason", active=False)
    page = client.get(reverse("move-preview"), {"pick": "%7BC1%7D/a1/0", "target": "{C2}"})
    body = page.content.decode()
    assert "data-move-reason-code" in body and "Sickness cover" in body
    assert "Retired reason" not in body


def test_a_required_code_keeps_the_dialog_and_a_chosen_one_is_stored(
    settings, client, mover, dir_small
):
    settings.APPROVAL_REASON_CODE_FOR = frozenset({"all"})
    ReasonCode.objects.create(code="SICK", label="Sickness cover")
    client.force_login(mover)
    htmx = {"HX-Request": "true"}
    missing = client.post(reverse("move-submit"), {**PICKS, "reason": "cover"}, headers=htmx)
    assert missing.status_code == 400
    assert (
        b"Choose a reason code" in missing.content and b"data-move-reason-code" in missing.content
    )
    assert AllocationJob.objects.count() == 0
    done = client.post(
        reverse("move-submit"), {**PICKS, "reason": "cover", "reason_code": "SICK"}, headers=htmx
    )
    assert done.status_code == 200
    assert AllocationJob.objects.get().reason == "SICK: cover"


def test_the_api_takes_and_checks_reason_code(settings, client, mover, dir_small):
    from tests.dashboard.api.conftest import token_for

    settings.APPROVAL_REASON_CODE_FOR = frozenset({"all"})
    ReasonCode.objects.create(code="SICK", label="Sickness cover")
    headers = {"Authorization": f"Token {token_for(mover)}"}
    body = {"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"]}
    refused = client.post(
        "/api/allocations", body, content_type="application/json", headers=headers
    )
    assert refused.status_code == 400 and "reason_code" in refused.json()["errors"]
    unknown = {**body, "reason_code": "NOPE"}
    bad = client.post("/api/allocations", unknown, content_type="application/json", headers=headers)
    assert bad.status_code == 400
    ok = client.post(
        "/api/allocations",
        {**body, "reason_code": "SICK"},
        content_type="application/json",
        headers=headers,
    )
    assert ok.status_code == 202 and AllocationJob.objects.get().reason == "SICK"
