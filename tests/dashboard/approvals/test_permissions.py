"""Every approvals route x every role -> the status it must answer (the same roles as the
project's permission table: anonymous, no role, auditor, supervisor, admin). The approval is
requested by a third supervisor, so neither decider is its requester."""

from __future__ import annotations

from unittest import mock

import pytest

from dashboard.allocations import submit
from dashboard.allocations.submit import job_submit
from dashboard.approvals.errors import ApprovalPending
from tests.dashboard.api.conftest import token_for
from tests.dashboard.conftest import user_with_role

pytestmark = pytest.mark.postgres_too
ROLES = ("anonymous", "none", "auditor", "supervisor", "admin")
LOGIN = 302


def row(*statuses):
    return dict(zip(ROLES, statuses, strict=True))


TABLE = [
    ("GET", "/approvals/", None, row(LOGIN, 403, 200, 200, 200)),
    ("GET", "/approvals/board", None, row(LOGIN, 403, 200, 200, 200)),
    ("GET", "/approvals/{id}/", None, row(LOGIN, 403, 200, 200, 200)),
    ("POST", "/approvals/{id}/approve", {}, row(LOGIN, 403, 403, 302, 302)),
    ("POST", "/approvals/{id}/reject", {"reason": "no"}, row(LOGIN, 403, 403, 302, 302)),
    ("POST", "/approvals/{id}/withdraw", {}, row(LOGIN, 403, 403, 403, 403)),
    ("GET", "/api/approvals", None, row(401, 403, 200, 200, 200)),
    ("GET", "/api/approvals/{id}", None, row(401, 403, 200, 200, 200)),
    ("POST", "/api/approvals/{id}/approve", {}, row(401, 403, 403, 200, 200)),
    ("POST", "/api/approvals/{id}/reject", {"reason": "no"}, row(401, 403, 403, 200, 200)),
]


@pytest.fixture(autouse=True)
def four_eyes(settings):
    settings.APPROVAL_REQUIRED_FOR = frozenset({"large"})
    settings.APPROVAL_THRESHOLD_AGENTS = 1
    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True):
        yield


def _user(django_user_model, role):
    if role == "anonymous":
        return None
    return user_with_role(django_user_model, f"u-{role}", None if role == "none" else role)


@pytest.mark.parametrize(("method", "path", "body", "expected"), TABLE)
@pytest.mark.parametrize("role", ROLES)
def test_role_gets_the_status_the_table_says(
    client, django_user_model, dir_small, role, method, path, body, expected
):
    requester = user_with_role(django_user_model, "req", "supervisor")
    with pytest.raises(ApprovalPending) as held:
        job_submit(
            actor=requester,
            agent_ids=["a1", "a2"],
            campaign_ids_in=["{C2}"],
            campaign_ids_out=["{C1}"],
        )
    url = path.format(id=held.value.approval.pk)
    user = _user(django_user_model, role)
    headers = {}
    if url.startswith("/api/"):
        if user is not None:
            headers["Authorization"] = f"Token {token_for(user)}"
    elif user is not None:
        client.force_login(user)
    if method == "GET":
        response = client.get(url, headers=headers)
    elif url.startswith("/api/"):
        response = client.post(url, body, content_type="application/json", headers=headers)
    else:
        response = client.post(url, body, headers=headers)
    assert response.status_code == expected[role], (role, method, url, response.content[:300])
