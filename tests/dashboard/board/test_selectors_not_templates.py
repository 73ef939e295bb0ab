"""Reads decided once, outside the templates (issue 12 item 4): the cancel rule, the audit row,
the top bar's health on full pages only, the htmx partial chosen by one decorator, names."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.audit.selectors import JOB_FINISHED
from dashboard.audit.services import audit_record
from dashboard.core.htmx import htmx_partial
from dashboard.directory.selectors import agent_names, campaign_names

pytestmark = pytest.mark.django_db
Status = AllocationJob.Status
HX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    ("status", "cancellable"),
    [
        (Status.QUEUED, True),
        (Status.RETRYING, True),
        (Status.RUNNING, False),
        (Status.SUCCEEDED, False),
        (Status.FAILED, False),
        (Status.CANCELLED, False),
    ],
)
def test_the_job_page_offers_cancel_exactly_when_the_job_is_cancellable(
    client, mover, job, status, cancellable
):
    AllocationJob.objects.filter(pk=job.pk).update(status=status)
    job.refresh_from_db()
    assert job.is_cancellable is cancellable
    client.force_login(mover)
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert (f'action="/jobs/{job.pk}/cancel"' in html) is cancellable


def test_the_audit_app_knows_the_finished_statuses_without_importing_allocations():
    assert {str(s) for s in AllocationJob.TERMINAL} == JOB_FINISHED


def test_the_audit_log_and_the_history_show_one_row_the_same_way(
    client, admin_user_role, dir_small
):
    audit_record(
        kind=AuditEvent.Kind.FAILED,
        agent_ids=["a1"],
        campaign_ids_in=["{C2}"],
        reason="Cover the evening shift",
        icws_error=type("E", (), {"status": 503, "error_id": "busy", "message": "Try later"})(),
        message="not shown when there is a reason",
    )
    client.force_login(admin_user_role)
    cells = []
    for url in (reverse("audit-list"), reverse("agent-detail", args=["a1"])):
        html = client.get(url).content.decode()
        start = html.index("<td data-audit-result>")
        cells.append(html[start : html.index("</td>", start)])
    assert cells[0] == cells[1]
    assert "Cover the evening shift" in cells[0]
    assert "ICWS 503 busy: Try later" in cells[0]
    assert "not shown" not in cells[0]


def _health_queries(client, url, headers=None) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers or {})
    assert response.status_code in (200, 286)
    return [q["sql"] for q in queries if "syncrun" in q["sql"].lower()]


def test_the_icws_health_is_read_for_full_pages_only(client, mover, job):
    client.force_login(mover)
    assert _health_queries(client, f"/jobs/{job.pk}/")  # the page's top bar shows it
    # The one-second poll and other partials show no top bar: no sync or job look-up for it.
    assert _health_queries(client, f"/jobs/{job.pk}/status", HX) == []
    html = client.get(f"/jobs/{job.pk}/status", headers=HX).content.decode()
    assert f'action="/jobs/{job.pk}/cancel"' in html  # the role still decides the buttons


def test_htmx_partial_swaps_the_template_for_htmx_requests_only():
    @htmx_partial("page.html#part", target="box")
    def view(request):
        return TemplateResponse(request, "page.html", {})

    def call(**htmx_headers):
        request = RequestFactory().get("/", headers=htmx_headers)
        request.htmx = HtmxDetails(request)
        return view(request)

    assert call().template_name == "page.html"
    assert call(HX_Request="true", HX_Target="box").template_name == "page.html#part"
    assert call(HX_Request="true", HX_Target="elsewhere").template_name == "page.html"
    boosted = call(HX_Request="true", HX_Boosted="true", HX_Target="box")
    assert boosted.template_name == "page.html"  # a boosted link wants the whole page
    assert "HX-Target" in call()["Vary"] and "HX-Request" in call()["Vary"]

    @htmx_partial("page.html#part")
    def plain(request):
        return HttpResponse(status=204)

    request = RequestFactory().get("/", headers={"HX-Request": "true"})
    request.htmx = HtmxDetails(request)
    assert plain(request).status_code == 204  # not a template: left alone


def test_names_come_from_one_directory_selector(dir_small):
    assert agent_names(["a1", "gone"]) == {"a1": "Agent 1"}
    assert campaign_names(["{C1}"]) == {"{C1}": "Renewals"}
    assert set(campaign_names()) == {"{C1}", "{C2}", "{C3}"}
