"""Job pages and the polling status partial: 286 at a terminal state, failures explained."""

from __future__ import annotations

import json

from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent

Status = AllocationJob.Status
HX = {"HX-Request": "true"}


def test_a_running_job_keeps_polling(client, mover, job):
    client.force_login(mover)
    response = client.get(f"/jobs/{job.pk}/status", headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-job-status="queued"' in html
    assert 'hx-trigger="every 1s"' in html


def test_a_finished_job_stops_polling_and_says_so(client, mover, job):
    job.status = Status.SUCCEEDED
    job.save()
    client.force_login(mover)
    response = client.get(f"/jobs/{job.pk}/status", headers=HX)
    assert response.status_code == 286
    assert 'data-job-status="succeeded"' in response.content.decode()
    assert "hx-trigger" not in response.content.decode()
    event = json.loads(response["HX-Trigger"])["jobFinished"]
    assert event == {
        "id": job.pk,
        "status": "succeeded",
        "message": f"Job {job.pk} accepted by CIC: moved Agent 1 from Renewals to Winback.",
    }


def test_a_licence_failure_is_explained_with_the_icws_details_and_a_retry(client, mover, job):
    job.status = Status.FAILED
    job.error_kind = AllocationJob.ErrorKind.ICWS
    job.error_status = 403
    job.error_id = "error.request.dialer.noLicense"
    job.error_message = "Neither the agent nor the station has a Dialer Add-on License available."
    job.save()
    client.force_login(mover)
    html = client.get(f"/jobs/{job.pk}/status", headers=HX).content.decode()
    assert "No Dialer Add-on licence is available" in html
    assert "HTTP 403 · error.request.dialer.noLicense" in html
    assert "data-job-retry" in html


def test_a_bad_request_failure_offers_no_retry(client, mover, job):
    job.status = Status.FAILED
    job.error_kind = AllocationJob.ErrorKind.ICWS
    job.error_status = 400
    job.error_id = "error.request.invalidProperty"
    job.error_message = "campaignIdsIn is not valid"
    job.save()
    client.force_login(mover)
    html = client.get(f"/jobs/{job.pk}/status", headers=HX).content.decode()
    assert "ICWS refused the move as invalid." in html
    assert "data-job-retry" not in html


def test_retry_makes_one_new_job_for_the_same_move(client, mover, job):
    job.status = Status.FAILED
    job.error_kind = AllocationJob.ErrorKind.RETRIES_EXHAUSTED
    job.error_status = 503
    job.save()
    client.force_login(mover)
    first = client.post(f"/jobs/{job.pk}/retry", headers=HX)
    again = client.post(f"/jobs/{job.pk}/retry", headers=HX)
    assert first.status_code == again.status_code == 200
    retry = AllocationJob.objects.exclude(pk=job.pk).get()
    assert retry.agent_ids == job.agent_ids
    assert retry.campaign_ids_in == ["{C2}"]
    assert retry.reason.startswith(f"Retry of job {job.pk}")
    assert f'data-job-id="{retry.pk}"' in first.content.decode()


def test_retry_of_a_job_that_did_not_fail_is_refused(client, mover, job):
    client.force_login(mover)
    response = client.post(f"/jobs/{job.pk}/retry", headers=HX)
    assert response.status_code == 409
    assert "only failed jobs are retried" in response.content.decode()


def test_an_auditor_cannot_retry_or_cancel(client, auditor, job):
    job.status = Status.FAILED
    job.error_kind = AllocationJob.ErrorKind.RETRIES_EXHAUSTED
    job.error_status = 503
    job.save()
    client.force_login(auditor)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "data-job-retry" not in page  # not offered
    refused = client.post(f"/jobs/{job.pk}/retry", headers=HX)
    assert refused.status_code == 403
    assert "Your role may not move agents" in refused.content.decode()  # in place, in words
    preview = client.get("/moves/preview", {"pick": "%7BC1%7D/a1/0", "target": "{C2}"}, headers=HX)
    assert preview.status_code == 403
    assert "<html" not in preview.content.decode()  # a fragment for the dialog, not a page
    assert "Your role may not move agents" in preview.content.decode()
    plain = client.post(f"/jobs/{job.pk}/cancel")
    assert plain.status_code == 403
    assert "<h1>Not allowed</h1>" in plain.content.decode()
    assert "Your role may not cancel moves" in plain.content.decode()
    assert AllocationJob.objects.count() == 1
    assert AuditEvent.objects.filter(kind="refused", job_id=job.pk).count() == 2


def test_retry_on_the_failed_jobs_page_goes_to_the_new_job(client, mover, job):
    job.status = Status.FAILED
    job.error_kind = AllocationJob.ErrorKind.RETRIES_EXHAUSTED
    job.save()
    client.force_login(mover)
    response = client.post(
        f"/jobs/{job.pk}/retry",
        headers={**HX, "HX-Current-URL": f"http://testserver/jobs/{job.pk}/?from=board"},
    )
    retry = AllocationJob.objects.exclude(pk=job.pk).get()
    assert response["HX-Redirect"] == f"/jobs/{retry.pk}/"


def test_the_job_page_reloads_its_details_when_the_job_ends(client, mover, job):
    client.force_login(mover)
    html = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="job-facts"' in html
    assert 'hx-trigger="jobFinished from:body"' in html
    assert 'hx-select="#job-facts"' in html


def test_the_job_page_looks_again_until_the_move_is_observed(client, mover, job):
    from django.utils import timezone

    from dashboard.audit.services import audit_record

    job.status, job.finished_at = Status.SUCCEEDED, timezone.now()
    job.save()
    client.force_login(mover)
    on_page = {**HX, "HX-Current-URL": f"http://testserver/jobs/{job.pk}/"}
    assert 'hx-trigger="load delay:3s"' in client.get(f"/jobs/{job.pk}/").content.decode()
    status = client.get(f"/jobs/{job.pk}/status", headers=on_page).content.decode()
    assert 'hx-trigger="load delay:3s"' in status
    # The board's panel shows the same partial: it never looks again (one toast per job).
    assert "hx-trigger" not in client.get(f"/jobs/{job.pk}/status", headers=HX).content.decode()
    audit_record(kind=AuditEvent.Kind.OBSERVED, job=job, message="Presence of Agent 1: Available")
    status = client.get(f"/jobs/{job.pk}/status", headers=on_page).content.decode()
    assert "hx-trigger" not in status
    assert "Presence of Agent 1: Available" in status


def test_cancel_from_the_panel(client, mover, job):
    client.force_login(mover)
    response = client.post(f"/jobs/{job.pk}/cancel", headers=HX)
    assert response.status_code == 286
    job.refresh_from_db()
    assert job.status == Status.CANCELLED


def test_the_job_pages_render(client, mover, job):
    client.force_login(mover)
    assert f"Job {job.pk}" in client.get(f"/jobs/{job.pk}/").content.decode()
    listing = client.get("/jobs/").content.decode()
    assert f'data-job-id="{job.pk}"' in listing
    assert client.get("/jobs/999/").status_code == 404


def test_the_job_list_refuses_a_cursor_that_is_not_a_number(client, mover, job):
    client.force_login(mover)
    response = client.get("/jobs/", {"before": "abc"})
    assert response.status_code == 400
    assert "before: must be a job number" in response.content.decode()
    assert client.get("/jobs/", {"before": str(job.pk + 1)}).status_code == 200
