"""Query parameters that used to reach the database or a date library as 500s (issue 17 item 3):
each is a 400 that names the parameter, on the pages, the exports and the API alike."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.allocations.models import AllocationJob
from dashboard.api.audit import AuditQuery
from tests.dashboard.api.conftest import token_for

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_too]

BAD_CURSORS = ["²", "x", "0", "-1", "1.5", "٣", "99999999999999999999", str(2**63)]
# Valid ISO text whose moment lies outside years 1-9999 in UTC: 0000-12-31T00:01Z.
BEFORE_YEAR_ONE = "0001-01-01T00:00+23:59"


@pytest.fixture
def job(mover):
    return AllocationJob.objects.create(requested_by=mover, agent_ids=["a1"])


@pytest.fixture
def as_auditor(client, auditor):
    client.force_login(auditor)
    return client


def streamed(response) -> str:
    assert not response.streaming, "a refused export must not start streaming"
    return response.content.decode()


@pytest.mark.parametrize("before", BAD_CURSORS)
def test_the_jobs_page_refuses_a_cursor_that_is_not_an_id(client, mover, job, before):
    client.force_login(mover)
    response = client.get("/jobs/", {"before": before})
    assert response.status_code == 400
    assert "before: must be a job number" in response.content.decode()


@pytest.mark.parametrize("before", BAD_CURSORS)
def test_the_audit_page_refuses_a_cursor_that_is_not_an_id(as_auditor, before):
    response = as_auditor.get(reverse("audit-list"), {"before": before})
    assert response.status_code == 400
    # The field by the form's word (Page), the parameter in data-audit-error.
    assert (
        '<li data-audit-error="before"><strong>Page</strong>: must be an entry id'
        in response.content.decode()
    )


@pytest.mark.parametrize("path", ["/api/allocations", "/api/audit"])
@pytest.mark.parametrize("before", BAD_CURSORS)
def test_the_api_refuses_a_cursor_that_is_not_an_id(client, admin_user_role, path, before):
    headers = {"Authorization": f"Token {token_for(admin_user_role)}"}
    response = client.get(path, {"before": before}, headers=headers)
    assert response.status_code == 400
    assert "before" in response.json()["errors"]


def test_a_largest_cursor_is_still_a_page(client, mover, job):
    client.force_login(mover)
    response = client.get("/jobs/", {"before": str(2**63 - 1)})
    assert response.status_code == 200
    assert f'data-job-id="{job.pk}"' in response.content.decode()


class TestDatesOutsideTheCalendar:
    """Valid text, impossible moment: the database (UTC) or the page (viewer's zone) could not
    hold it, so the filter refuses it before either sees it."""

    CASES = [
        ({}, {"until": BEFORE_YEAR_ONE}, "until"),
        ({"tz": "Etc/GMT+12"}, {"until": "9999-12-31"}, "until"),  # 10000-01-01 in UTC
        ({"tz": "Etc/GMT-14"}, {"since": "0001-01-01"}, "since"),  # year 0 in UTC
        ({}, {"since": "9999-12-31T23:59-23:59"}, "since"),
    ]

    @pytest.mark.parametrize(("cookies", "params", "field"), CASES)
    def test_the_audit_page_names_the_field(self, as_auditor, cookies, params, field):
        as_auditor.cookies.load(cookies)
        response = as_auditor.get(reverse("audit-list"), params)
        assert response.status_code == 400
        html = response.content.decode()
        label = {"since": "From", "until": "To"}[field]
        assert (
            f'<li data-audit-error="{field}"><strong>{label}</strong>: '
            "is outside the dates the log can hold"
        ) in html

    @pytest.mark.parametrize("export", ["audit-export-csv", "audit-export-jsonl"])
    @pytest.mark.parametrize(("cookies", "params", "field"), CASES)
    def test_exports_answer_400_before_streaming(self, as_auditor, export, cookies, params, field):
        as_auditor.cookies.load(cookies)
        response = as_auditor.get(reverse(export), params)
        assert response.status_code == 400
        assert f"{field}: is outside the dates the log can hold" in streamed(response)

    @pytest.mark.parametrize(("cookies", "params", "field"), CASES)
    def test_the_api_names_the_field(self, client, auditor, cookies, params, field):
        client.cookies.load(cookies)
        headers = {"Authorization": f"Token {token_for(auditor)}"}
        response = client.get("/api/audit", params, headers=headers)
        assert response.status_code == 400
        assert field in response.json()["errors"]

    def test_the_last_representable_day_still_filters(self, as_auditor):
        response = as_auditor.get(reverse("audit-list"), {"until": "9999-12-30"})
        assert response.status_code == 200
        as_auditor.cookies["tz"] = "Etc/GMT-14"
        assert as_auditor.get(reverse("audit-list"), {"since": "0001-01-02"}).status_code == 200

    def test_the_api_documents_the_cursor_bound(self):
        bounds = AuditQuery.model_json_schema()["properties"]["before"]["anyOf"][0]
        assert bounds["maximum"] == 2**63 - 1
