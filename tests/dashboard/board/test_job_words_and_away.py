"""Job entries name agents and target; a retried failure says so; jobs finished while away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.activity.models import BoardVisit
from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import Agent

Status = AllocationJob.Status
HX = {"HX-Request": "true"}
pytestmark = pytest.mark.postgres_too


def failed(job):
    job.status = Status.FAILED
    job.error_kind = AllocationJob.ErrorKind.RETRIES_EXHAUSTED
    job.error_status = 503
    job.finished_at = timezone.now()
    job.save()
    return job


def test_entries_name_the_agents_and_the_target_with_many_cut_short(client, mover, job):
    client.force_login(mover)
    html = client.get(f"/jobs/{job.pk}/status", headers=HX).content.decode()
    assert "Moving Agent 1 from Renewals to Winback" in html
    names = [f"Many <{i}>" for i in range(100)]
    Agent.objects.bulk_create(Agent(id=f"m{i}", name=n) for i, n in enumerate(names))
    big = AllocationJob.objects.create(
        requested_by=mover,
        agent_ids=[f"m{i}" for i in range(100)],
        campaign_ids_in=["{C2}"],
        status=Status.SUCCEEDED,
    )
    listing = client.get("/jobs/").content.decode()
    assert (
        "Moved Many &lt;0&gt;, Many &lt;1&gt;, Many &lt;2&gt; and 97 more "
        "from Unassigned to Winback" in listing
    )
    assert "Moving Agent 1 from Renewals to Winback" in listing
    page = client.get(f"/jobs/{big.pk}/").content.decode()
    assert "Moved Many &lt;0&gt;" in page
    assert 'title="m99">Many &lt;99&gt;</a>' in page  # the details list every agent by name


def test_the_job_list_describes_a_page_in_fixed_queries(
    client, mover, job, django_assert_max_num_queries
):
    client.force_login(mover)
    for _ in range(20):
        failed(AllocationJob.objects.create(requested_by=mover, agent_ids=["a2"]))
    client.get("/jobs/")
    with django_assert_max_num_queries(12):
        client.get("/jobs/")


def test_a_retried_failure_links_its_retry_and_offers_no_retry(client, mover, job):
    failed(job)
    client.force_login(mover)
    before = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "data-job-retry" in before and "data-job-retried-as" not in before
    client.post(f"/jobs/{job.pk}/retry", headers=HX)
    retry = AllocationJob.objects.exclude(pk=job.pk).get()
    for url in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/status", "/jobs/", "/"):
        html = client.get(url).content.decode()
        assert f'data-job-retried-as="{retry.pk}"' in html, url
        assert f'href="/jobs/{retry.pk}/">job {retry.pk}</a>' in html, url
    assert "data-job-retry" not in client.get(f"/jobs/{job.pk}/").content.decode()


def test_after_signing_in_again_the_board_lists_jobs_finished_meanwhile(client, mover, job):
    old = AllocationJob.objects.create(
        requested_by=mover, agent_ids=["a2"], status=Status.SUCCEEDED
    )
    AllocationJob.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(hours=2))
    BoardVisit.objects.create(user=mover, seen_at=timezone.now() - timedelta(hours=1))
    failed(job)
    client.post("/accounts/login/", {"username": "mover", "password": "pw-for-tests-only"})
    board = client.get("/").content.decode()
    assert 'hx-get="/jobs/away"' in board
    away = client.get("/jobs/away", headers=HX)
    html = away.content.decode()
    assert away.status_code == 200
    assert "While you were away" in html
    assert f"Job {job.pk} failed to move Agent 1 from Renewals to Winback" in html
    assert f"Job {old.pk}" not in html  # finished before the last visit
    assert client.get("/jobs/away", headers=HX).status_code == 204  # shown once


def test_a_first_sign_in_has_nothing_from_while_away(client, mover, job):
    failed(job)
    client.post("/accounts/login/", {"username": "mover", "password": "pw-for-tests-only"})
    assert client.get("/jobs/away", headers=HX).status_code == 204
    client.get("/activity")  # the open board's poll notes the visit
    assert BoardVisit.objects.filter(user=mover).exists()
