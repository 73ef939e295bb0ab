"""Every URL x every role -> the status it must answer (DEVELOPERS.md: roles checked on the server).

The table must list every route the project serves (admin aside, tested in tests/ops): a new view
without a row here fails ``test_the_table_covers_every_route``.
"""

from __future__ import annotations

from datetime import date, time

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from dashboard.allocations.models import AllocationJob
from dashboard.approvals.models import Approval
from dashboard.approvals.request import request_approval
from dashboard.audit.services import audit_record
from dashboard.plans.models import Plan
from tests.dashboard.api.conftest import token_for
from tests.dashboard.conftest import user_with_role

ROLES = ("anonymous", "none", "auditor", "supervisor", "admin")
LOGIN = 302  # anonymous users of a page are sent to the login page


def row(*statuses):
    return dict(zip(ROLES, statuses, strict=True))


# (route name, method, path, {role: status}[, body]); {job}, {event}, {plan} and {approval} are
# filled in per test. POSTs send a valid move unless the row gives its own body, so a refusal
# comes from the role, not from the input.
MOVE = {"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]}
# The same move as the board's confirm form posts it: the picks (column/agent/version) and target.
BOARD_MOVE = {"picks": "{C1}/a1/0", "target": "{C2}"}
# A valid plan, as the API takes it and as the plan form posts it.
PLAN = {
    "name": "Evening renewals",
    "agent_ids": ["a1"],
    "campaign_ids_in": ["{C2}"],
    "campaign_ids_out": ["{C1}"],
    "time_zone": "Europe/Berlin",
    "start": "2030-03-29T17:00",
    "end_time": "19:00",
    "repeat": "once",
}
PLAN_FORM = {**PLAN, "who": "agents", "agent_ids": "a1"}
TABLE = [
    ("healthz", "GET", "/healthz", row(200, 200, 200, 200, 200)),
    ("favicon", "GET", "/favicon.ico", row(200, 200, 200, 200, 200)),  # public, as browsers ask
    ("readyz", "GET", "/readyz", row(503, 503, 503, 503, 503)),  # no broker/ICWS in this test
    # Outside debug with no METRICS_TOKEN set, nobody: a session is no metrics token.
    ("metrics", "GET", "/metrics", row(403, 403, 403, 403, 403)),
    # A signed-in user is sent on from the sign-in page (Back no longer shows a sign-in form).
    ("login", "GET", "/accounts/login/", row(200, 302, 302, 302, 302)),
    ("logout", "POST", "/accounts/logout/", row(302, 302, 302, 302, 302)),
    ("password_change", "GET", "/accounts/password_change/", row(LOGIN, 200, 200, 200, 200)),
    (
        "password_change_done",
        "GET",
        "/accounts/password_change/done/",
        row(LOGIN, 200, 200, 200, 200),
    ),
    ("board", "GET", "/", row(LOGIN, 403, 200, 200, 200)),
    (
        "move-preview",
        "GET",
        "/moves/preview?pick=%7BC1%7D/a1/0&target=%7BC2%7D",
        row(LOGIN, 403, 403, 200, 200),
    ),
    ("move-submit", "POST", "/moves/", row(LOGIN, 403, 403, 302, 302)),
    ("job-list", "GET", "/jobs/", row(LOGIN, 403, 200, 200, 200)),
    ("job-detail", "GET", "/jobs/{job}/", row(LOGIN, 403, 200, 200, 200)),
    ("job-status", "GET", "/jobs/{job}/status", row(LOGIN, 403, 200, 200, 200)),
    ("job-retry", "POST", "/jobs/{job}/retry", row(LOGIN, 403, 403, 302, 302)),  # not failed
    ("job-cancel", "POST", "/jobs/{job}/cancel", row(LOGIN, 403, 403, 302, 302)),
    # Others' activity on the board: read by any board role, reported by movers (the table's
    # POST carries no report, so a mover gets the 400 naming the field: the role passed).
    ("board-activity", "GET", "/activity", row(LOGIN, 403, 200, 200, 200)),
    ("board-activity", "POST", "/activity", row(LOGIN, 403, 403, 400, 400)),
    # The open confirmation's poll: no snapshot posted, so the 400 naming it.
    ("move-check", "POST", "/moves/check", row(LOGIN, 403, 403, 400, 400)),
    # Jobs finished while away: nothing kept from a sign-in in this test, so 204.
    ("jobs-away", "GET", "/jobs/away", row(LOGIN, 403, 204, 204, 204)),
    ("agent-detail", "GET", "/agents/a1/", row(LOGIN, 403, 200, 200, 200)),
    ("campaign-detail", "GET", "/campaigns/%7BC1%7D/", row(LOGIN, 403, 200, 200, 200)),
    ("audit-list", "GET", "/audit/", row(LOGIN, 403, 200, 200, 200)),
    ("audit-export-csv", "GET", "/audit/export.csv", row(LOGIN, 403, 200, 200, 200)),
    ("audit-export-jsonl", "GET", "/audit/export.jsonl", row(LOGIN, 403, 200, 200, 200)),
    ("audit-detail", "GET", "/audit/{event}/", row(LOGIN, 403, 200, 200, 200)),
    ("audit-suggest", "GET", "/audit/suggest/campaign?campaign=wi", row(LOGIN, 403, 200, 200, 200)),
    # The job page's revert: the job has not succeeded, so back to the job with a message.
    ("job-revert", "GET", "/audit/job/{job}/revert", row(LOGIN, 403, 403, 302, 302)),
    # The job is still queued: a supervisor is told it cannot be reverted (409).
    ("audit-revert", "GET", "/audit/{event}/revert", row(LOGIN, 403, 403, 409, 409)),
    # Posted anyway: back to the entry with the reason as a message.
    ("audit-revert", "POST", "/audit/{event}/revert", row(LOGIN, 403, 403, 302, 302)),
    # The agent's own page: CIC-signed-in dialer agents only, no dashboard role opens it.
    ("me", "GET", "/me/", row(LOGIN, 403, 403, 403, 403)),
    ("me-ready", "POST", "/me/ready/", row(LOGIN, 403, 403, 403, 403)),
    # Shift plans: read by any board role, made and changed by movers. The plan is active, so a
    # pause is done, a resume is a repeat (already active) and a delete is done.
    ("plan-list", "GET", "/plans/", row(LOGIN, 403, 200, 200, 200)),
    ("plan-new", "GET", "/plans/new", row(LOGIN, 403, 403, 200, 200)),
    ("plan-new", "POST", "/plans/new", row(LOGIN, 403, 403, 302, 302), PLAN_FORM),
    # The board's "Save as plan…": the form filled with the picked move, nothing saved.
    ("plan-from-board", "POST", "/plans/new/from-board", row(LOGIN, 403, 403, 200, 200)),
    ("plan-detail", "GET", "/plans/{plan}/", row(LOGIN, 403, 200, 200, 200)),
    ("plan-edit", "GET", "/plans/{plan}/edit", row(LOGIN, 403, 403, 200, 200)),
    ("plan-edit", "POST", "/plans/{plan}/edit", row(LOGIN, 403, 403, 302, 302), PLAN_FORM),
    ("plan-pause", "POST", "/plans/{plan}/pause", row(LOGIN, 403, 403, 302, 302)),
    ("plan-resume", "POST", "/plans/{plan}/resume", row(LOGIN, 403, 403, 302, 302)),
    ("plan-delete", "GET", "/plans/{plan}/delete", row(LOGIN, 403, 403, 200, 200)),
    ("plan-delete", "POST", "/plans/{plan}/delete", row(LOGIN, 403, 403, 302, 302)),
    # Four-eyes approvals, requested by "owner": read by any board role, decided by a supervisor
    # or an admin who is not the requester, withdrawn by the requester only (none of these).
    ("approval-list", "GET", "/approvals/", row(LOGIN, 403, 200, 200, 200)),
    ("approval-board", "GET", "/approvals/board", row(LOGIN, 403, 200, 200, 200)),
    ("approval-detail", "GET", "/approvals/{approval}/", row(LOGIN, 403, 200, 200, 200)),
    (
        "approval-approve",
        "POST",
        "/approvals/{approval}/approve",
        row(LOGIN, 403, 403, 302, 302),
        {"reason": "covered"},
    ),
    (
        "approval-reject",
        "POST",
        "/approvals/{approval}/reject",
        row(LOGIN, 403, 403, 302, 302),
        {"reason": "not today"},
    ),
    (
        "approval-withdraw",
        "POST",
        "/approvals/{approval}/withdraw",
        row(LOGIN, 403, 403, 403, 403),
        {},
    ),
    ("openapi-json", "GET", "/api/openapi.json", row(401, 200, 200, 200, 200)),
    ("api-root", "GET", "/api/", row(404, 404, 404, 404, 404)),
    ("allocation_create", "POST", "/api/allocations", row(401, 403, 403, 202, 202)),
    ("allocation_list", "GET", "/api/allocations", row(401, 403, 200, 200, 200)),
    ("allocation_detail", "GET", "/api/allocations/{job}", row(401, 403, 200, 200, 200)),
    ("allocation_cancel", "POST", "/api/allocations/{job}/cancel", row(401, 403, 403, 200, 200)),
    ("agent_list", "GET", "/api/agents", row(401, 403, 200, 200, 200)),
    ("campaign_list", "GET", "/api/campaigns", row(401, 403, 200, 200, 200)),
    ("audit_list", "GET", "/api/audit", row(401, 403, 200, 200, 200)),
    ("plan_list", "GET", "/api/plans", row(401, 403, 200, 200, 200)),
    ("plan_create_view", "POST", "/api/plans", row(401, 403, 403, 201, 201), PLAN),
    ("plan_detail", "GET", "/api/plans/{plan}", row(401, 403, 200, 200, 200)),
    ("plan_pause_view", "POST", "/api/plans/{plan}/pause", row(401, 403, 403, 200, 200), {}),
    # The plan is already active: a resume is a repeat, answered with the plan as it is.
    ("plan_resume_view", "POST", "/api/plans/{plan}/resume", row(401, 403, 403, 200, 200), {}),
    ("plan_delete_view", "DELETE", "/api/plans/{plan}", row(401, 403, 403, 200, 200)),
    ("approval_list", "GET", "/api/approvals", row(401, 403, 200, 200, 200)),
    ("approval_detail", "GET", "/api/approvals/{approval}", row(401, 403, 200, 200, 200)),
    (
        "approval_approve",
        "POST",
        "/api/approvals/{approval}/approve",
        row(401, 403, 403, 200, 200),
        {"reason": "covered"},
    ),
    (
        "approval_reject",
        "POST",
        "/api/approvals/{approval}/reject",
        row(401, 403, 403, 200, 200),
        {"reason": "not today"},
    ),
]


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                continue
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield pattern.name


def test_the_table_covers_every_route():
    served = set(_routes(get_resolver().url_patterns))
    listed = {name for name, *_ in TABLE}
    assert served - listed == set(), "routes without a permission row"
    assert listed - served == set(), "rows for routes that do not exist"


@pytest.fixture(autouse=True)
def no_enqueue():
    from unittest import mock

    from dashboard.allocations import submit

    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True):
        yield


def _cases(session_api: bool = False):
    for name, method, path, expected, *body in TABLE:
        if session_api and not path.startswith("/api/"):
            continue
        body = body[0] if body else _default_body(path)
        for role in ROLES:
            yield pytest.param(
                role, method, path, body, expected[role], id=f"{role}-{method}-{name}"
            )


def _default_body(path: str) -> dict:
    return BOARD_MOVE if path in ("/moves/", "/plans/new/from-board") else MOVE


CASE = ("role", "method", "path", "body", "status")


@pytest.mark.parametrize(CASE, list(_cases(session_api=True)))
def test_the_api_answers_a_session_as_it_answers_a_token(
    client, django_user_model, dir_small, settings, role, method, path, body, status
):
    _check(client, django_user_model, settings, role, method, path, body, status, session=True)


@pytest.mark.parametrize(CASE, list(_cases()))
def test_role_x_url(
    client, django_user_model, dir_small, settings, role, method, path, body, status
):
    _check(client, django_user_model, settings, role, method, path, body, status, session=False)


def _plan(owner) -> Plan:
    """An active plan of the owner's (saved as it is, past the approval a new plan waits for)."""
    return Plan.objects.create(
        name="Evening renewals",
        created_by=owner,
        agent_ids=["a1"],
        campaign_ids_in=["{C2}"],
        campaign_ids_out=["{C1}"],
        time_zone="Europe/Berlin",
        start_date=date(2030, 3, 29),
        start_time=time(17, 0),
        end_time=time(19, 0),
        runs_from=timezone.now(),
    )


def _approval(owner) -> Approval:
    """A move the owner asked to be approved: the table's supervisor and admin are second people."""
    approval, _ = request_approval(
        kind=Approval.Kind.MOVE,
        requester=owner,
        agent_ids=["a1"],
        campaign_ids_in=["{C2}"],
        campaign_ids_out=["{C1}"],
        needs=[("large", "1 agents, more than 0")],
    )
    return approval


def _check(client, django_user_model, settings, role, method, path, body, status, *, session):
    settings.READYZ_TIMEOUT = 0.2
    owner = user_with_role(django_user_model, "owner", "supervisor")
    job = AllocationJob.objects.create(
        requested_by=owner, agent_ids=["a1"], campaign_ids_in=["{C2}"], campaign_ids_out=["{C1}"]
    )
    event = audit_record(kind="requested", job=job)
    path = path.format(
        job=job.pk, event=event.pk, plan=_plan(owner).pk, approval=_approval(owner).pk
    )
    headers = {}
    if role != "anonymous":
        user = user_with_role(django_user_model, f"u-{role}", None if role == "none" else role)
        if path.startswith("/api/") and not session:
            headers["Authorization"] = f"Token {token_for(user)}"
        else:
            client.force_login(user)
    if method == "GET":
        response = client.get(path, headers=headers)
    elif method == "DELETE":
        response = client.delete(path, headers=headers)
    elif path.startswith("/api/"):
        response = client.post(path, body, headers=headers, content_type="application/json")
    else:
        response = client.post(path, body, headers=headers)
    assert response.status_code == status, response.content[:300]
    if status == LOGIN and role == "anonymous" and not path.startswith("/accounts/logout"):
        assert response["Location"].startswith("/accounts/login/")
