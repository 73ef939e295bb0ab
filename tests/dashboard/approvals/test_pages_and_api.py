"""The approvals pages, the board's panel and /api/approvals, on the test client (the queue is the
one seam mocked; tests/integration runs the real worker)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from dashboard.accounts.models import SupervisorScope
from dashboard.allocations import submit
from dashboard.allocations.models import AllocationJob
from dashboard.approvals.models import Approval
from dashboard.audit.models import AuditEvent
from tests.dashboard.api.conftest import token_for
from tests.dashboard.conftest import user_with_role

pytestmark = pytest.mark.postgres_too


@pytest.fixture(autouse=True)
def four_eyes(settings):
    settings.APPROVAL_REQUIRED_FOR = frozenset({"large", "out_of_scope", "plan"})
    settings.APPROVAL_THRESHOLD_AGENTS = 1
    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True):
        yield settings


@pytest.fixture
def second(django_user_model):
    return user_with_role(django_user_model, "second", "supervisor")


def _api(client, user, method, path, body=None):
    headers = {"Authorization": f"Token {token_for(user)}"}
    if method == "get":
        return client.get(path, headers=headers)
    return client.post(path, body or {}, content_type="application/json", headers=headers)


def _held_move(client, user, dir_small):
    body = {"agent_ids": ["a1", "a2"], "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]}
    headers = {"Authorization": f"Token {token_for(user)}", "Idempotency-Key": "one"}
    return client.post("/api/allocations", body, content_type="application/json", headers=headers)


def test_the_api_answers_202_with_the_approval_and_a_replay_returns_it(client, mover, dir_small):
    response = _held_move(client, mover, dir_small)
    assert response.status_code == 202, response.content
    body = response.json()
    approval = Approval.objects.get()
    assert body["approval"]["id"] == approval.pk
    assert body["url"] == f"/api/approvals/{approval.pk}"
    assert body["detail"].startswith(
        f"Waiting for approval by a second supervisor: approval {approval.pk}"
    )
    assert _held_move(client, mover, dir_small).json()["approval"]["id"] == approval.pk
    assert Approval.objects.count() == 1 and AllocationJob.objects.count() == 0


def test_api_approve_by_a_second_supervisor_queues_the_job(client, mover, second, dir_small):
    _held_move(client, mover, dir_small)
    approval = Approval.objects.get()
    own = _api(client, mover, "post", f"/api/approvals/{approval.pk}/approve", {"reason": "x"})
    assert own.status_code == 403 and "second supervisor" in own.json()["detail"]
    detail = _api(client, second, "get", f"/api/approvals/{approval.pk}").json()
    assert detail["may_decide"] is True and detail["review"]["changed"] is False
    pending = _api(client, second, "get", "/api/approvals?for_me=true").json()
    assert [a["id"] for a in pending] == [approval.pk]
    assert _api(client, mover, "get", "/api/approvals?for_me=true").json() == []
    ok = _api(
        client,
        second,
        "post",
        f"/api/approvals/{approval.pk}/approve",
        {"reason": "fine", "expected_versions": detail["review"]["versions"]},
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["status"] == "approved" and ok.json()["decided_by"] == "second"
    job = AllocationJob.objects.get()
    assert job.requested_by == mover and ok.json()["job_url"] == f"/api/allocations/{job.pk}"
    again = _api(client, second, "post", f"/api/approvals/{approval.pk}/approve", {})
    assert again.status_code == 409


def test_api_reject_needs_a_reason_and_the_schema_lists_approvals(client, mover, second, dir_small):
    _held_move(client, mover, dir_small)
    approval = Approval.objects.get()
    path = f"/api/approvals/{approval.pk}/reject"
    assert _api(client, second, "post", path, {"reason": " "}).status_code == 400
    assert _api(client, second, "post", path, {}).status_code == 400
    assert _api(client, second, "post", path, {"reason": "no"}).json()["status"] == "rejected"
    schema = _api(client, second, "get", "/api/openapi.json").json()
    assert "/api/approvals/{approval_id}/approve" in schema["paths"]
    assert _api(client, second, "get", "/api/approvals/999").status_code == 404


@pytest.mark.parametrize(
    ("reason", "named"),
    [("\ud800", "lone surrogates"), ("ok \u202e", "text-direction"), ("a\x07b", "control")],
)
def test_a_decision_reason_is_checked_as_a_moves_reason_is(
    client, mover, second, dir_small, reason, named
):
    _held_move(client, mover, dir_small)
    approval = Approval.objects.get()
    for action in ("approve", "reject"):
        response = _api(
            client, second, "post", f"/api/approvals/{approval.pk}/{action}", {"reason": reason}
        )
        assert response.status_code == 400, response.content
        assert named in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == Approval.Status.PENDING


def test_out_of_scope_waits_instead_of_being_refused_and_an_out_of_scope_approver_cannot(
    client, mover, second, dir_small, django_user_model
):
    sales, _care = dir_small["groups"]
    SupervisorScope.objects.create(user=mover).workgroups.add(sales)
    SupervisorScope.objects.create(user=second).workgroups.add(sales)
    four_eyes_settings = {"agent_ids": ["a3"], "campaign_ids_in": ["{C3}"]}
    headers = {"Authorization": f"Token {token_for(mover)}"}
    response = client.post(
        "/api/allocations", four_eyes_settings, content_type="application/json", headers=headers
    )
    assert response.status_code == 202
    approval = Approval.objects.get()
    assert approval.needs == ["out_of_scope"]
    refused = _api(client, second, "post", f"/api/approvals/{approval.pk}/approve", {})
    assert refused.status_code == 403 and "outside your workgroups" in refused.json()["detail"]
    assert AuditEvent.objects.filter(kind="refused", actor=second).exists()
    admin = user_with_role(django_user_model, "ada", "admin")
    assert (
        _api(client, admin, "post", f"/api/approvals/{approval.pk}/approve", {}).status_code == 200
    )


def test_the_pages_show_the_preview_and_decide_with_csrf(client, mover, second, dir_small):
    _held_move(client, mover, dir_small)
    approval = Approval.objects.get()
    client.force_login(mover)
    page = client.get(reverse("approval-detail", args=[approval.pk]))
    assert page.status_code == 200
    assert (
        b"you cannot approve your own" in page.content
        and b"data-approval-approve" not in page.content
    )
    panel = client.get(reverse("approval-board")).content.decode()
    assert "data-approval-mine" in panel and "data-approval-for-me" not in panel
    client.force_login(second)
    panel = client.get(reverse("approval-board"))
    assert b"data-approval-for-me" in panel.content
    rev = panel.content.decode().split("rev=")[1].split('"')[0]
    assert client.get(reverse("approval-board"), {"rev": rev}).status_code == 204
    page = client.get(reverse("approval-detail", args=[approval.pk])).content.decode()
    assert (
        "Agent 1" in page and "data-approval-approve" in page and "2 → <strong>0</strong>" in page
    )
    assert b"Waiting for you" in client.get(reverse("approval-list")).content
    missing = client.post(reverse("approval-reject", args=[approval.pk]), {"reason": ""})
    assert missing.status_code == 400 and b"Give a reason" in missing.content
    bad = client.post(reverse("approval-approve", args=[approval.pk]), {"versions": "{not json"})
    assert bad.status_code == 400
    done = client.post(reverse("approval-approve", args=[approval.pk]), {"reason": "ok"})
    assert done.status_code == 302
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.job is not None
    csrf = type(client)(enforce_csrf_checks=True)
    csrf.force_login(second)
    assert (
        csrf.post(reverse("approval-reject", args=[approval.pk]), {"reason": "x"}).status_code
        == 403
    )


def test_the_requester_withdraws_and_nobody_else_can(client, mover, second, dir_small):
    _held_move(client, mover, dir_small)
    approval = Approval.objects.get()
    client.force_login(second)
    assert client.post(reverse("approval-withdraw", args=[approval.pk])).status_code == 403
    client.force_login(mover)
    assert client.post(reverse("approval-withdraw", args=[approval.pk])).status_code == 302
    approval.refresh_from_db()
    assert approval.status == "withdrawn"


def test_an_auditor_sees_but_cannot_decide(client, mover, auditor, dir_small):
    _held_move(client, mover, dir_small)
    approval = Approval.objects.get()
    client.force_login(auditor)
    assert client.get(reverse("approval-list")).status_code == 200
    assert client.post(reverse("approval-approve", args=[approval.pk])).status_code == 403


def test_bad_settings_are_refused_with_the_variable_named(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import dashboard.settings as module

    monkeypatch.setenv("APPROVAL_REQUIRED_FOR", "large,huge")
    with pytest.raises(ImproperlyConfigured, match=r"APPROVAL_REQUIRED_FOR.*huge"):
        importlib.reload(module)
    monkeypatch.delenv("APPROVAL_REQUIRED_FOR")
    importlib.reload(module)
