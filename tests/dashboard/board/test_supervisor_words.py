"""Words a new supervisor found inconsistent or empty: one status wording for an accepted move
everywhere, "Unassigned" where a move left or entered no campaign, namesakes told apart."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.audit.models import AuditEvent
from dashboard.audit.selectors import OUTCOMES
from dashboard.audit.services import audit_record
from dashboard.board.job_words import agent_labels
from dashboard.directory.models import Agent

Status = AllocationJob.Status
HX = {"HX-Request": "true"}
pytestmark = pytest.mark.postgres_too


def visible(html: str) -> str:
    """The page's text without tags and attributes (class="job-succeeded" is no word shown)."""
    return re.sub(r"<[^>]*>", " ", html)


@pytest.fixture
def accepted(mover, dir_small):
    """a3 moved from Unassigned into Winback, accepted by CIC."""
    return AllocationJob.objects.create(
        requested_by=mover,
        agent_ids=["a3"],
        campaign_ids_in=["{C2}"],
        status=Status.SUCCEEDED,
        finished_at=timezone.now(),
    )


def test_an_accepted_move_has_one_wording_everywhere(client, mover, accepted):
    JobBatch.objects.create(job=accepted, index=0, agent_ids=["a3"], status="accepted")
    client.force_login(mover)
    pages = {
        "job page": client.get(f"/jobs/{accepted.pk}/").text,
        "job list": client.get("/jobs/").text,
        "jobs panel": client.get("/").text,
        "status poll": client.get(f"/jobs/{accepted.pk}/status", headers=HX).text,
    }
    for where, html in pages.items():
        text = visible(html)
        assert "Accepted by CIC" in text, where
        assert not re.search(r"\bsucceeded\b|Accepted by ICWS", text, re.I), where
    # The job page's batch says it the same way.
    assert visible(pages["job page"]).count("Accepted by CIC") >= 2
    # The toast when it ends, and the audit's outcome filter, in the same words.
    finished = client.get(f"/jobs/{accepted.pk}/status", headers=HX)
    assert (
        "accepted by CIC: moved Agent 3 from Unassigned to Winback"
        in (finished.headers["HX-Trigger"])
    )
    assert OUTCOMES["succeeded"] == Status.SUCCEEDED.label == JobBatch.Status.ACCEPTED.label


def test_the_audit_outcome_choice_reads_as_the_job_status(client, auditor, accepted):
    client.force_login(auditor)
    html = client.get("/audit/").text
    assert '<option value="succeeded">Accepted by CIC</option>' in html
    assert ">Succeeded<" not in html


def test_a_move_from_unassigned_says_so_on_the_job_page_and_list(client, mover, accepted):
    client.force_login(mover)
    page = client.get(f"/jobs/{accepted.pk}/").text
    assert re.search(r"<dd data-job-out>\s*Unassigned\s*</dd>", page)
    assert "Moved Agent 3 from Unassigned to Winback" in page
    listing = client.get("/jobs/").text
    assert re.search(r"<td data-job-out>\s*Unassigned\s*</td>", listing)
    away = AllocationJob.objects.create(  # to Unassigned: a move that enters no campaign
        requested_by=mover, agent_ids=["a1"], campaign_ids_out=["{C1}"]
    )
    page = client.get(f"/jobs/{away.pk}/").text
    assert re.search(r"<dd data-job-into>\s*Unassigned\s*</dd>", page)
    assert "Moving Agent 1 from Renewals to Unassigned" in page


def test_the_audit_entry_of_a_move_from_unassigned_names_it(client, auditor, mover, accepted):
    event = audit_record(
        kind=AuditEvent.Kind.SUCCEEDED,
        actor=mover,
        job=accepted,
        agent_ids=["a3"],
        campaign_ids_in=["{C2}"],
        campaign_ids_out=[],
        message="Move 1 agent into Winback",
    )
    client.force_login(auditor)
    html = client.get(f"/audit/{event.pk}/").text
    assert re.search(r"<dd data-audit-out>\s*Unassigned\s*</dd>", html)
    assert "Accepted by CIC" in html


def test_namesakes_are_told_apart_by_id(client, mover, dir_small):
    Agent.objects.filter(id__in=["a1", "a2"]).update(name="Ada Ivanova")
    assert agent_labels(["a1", "a2", "a3"]) == {
        "a1": "Ada Ivanova (a1)",
        "a2": "Ada Ivanova (a2)",
        "a3": "Agent 3",
    }
    # One namesake in the job is enough: the other is on the board.
    job = AllocationJob.objects.create(
        requested_by=mover, agent_ids=["a1", "a3"], campaign_ids_in=["{C2}"]
    )
    both = AllocationJob.objects.create(
        requested_by=mover, agent_ids=["a1", "a2"], campaign_ids_in=["{C2}"]
    )
    client.force_login(mover)
    listing = client.get("/jobs/").text
    assert "Moving Ada Ivanova (a1), Agent 3 from Unassigned to Winback" in listing
    assert "Moving Ada Ivanova (a1), Ada Ivanova (a2) from Unassigned" in listing
    page = client.get(f"/jobs/{both.pk}/").text
    assert 'title="a1">Ada Ivanova (a1)</a>' in page
    assert 'title="a2">Ada Ivanova (a2)</a>' in page
    panel = client.get("/").text
    assert "Ada Ivanova (a1), Ada Ivanova (a2)" in panel
    assert job.pk  # both jobs listed above


def test_a_unique_name_carries_no_id(client, mover, dir_small):
    job = AllocationJob.objects.create(
        requested_by=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"]
    )
    client.force_login(mover)
    assert "Moving Agent 1 from Unassigned to Winback" in client.get(f"/jobs/{job.pk}/").text
    assert "Agent 1 (a1)" not in client.get("/jobs/").text


def sign_in(client):
    client.post("/accounts/login/", {"username": "mover", "password": "pw-for-tests-only"})


def test_while_you_were_away_lists_a_job_once_across_sign_ins(client, mover, accepted):
    from datetime import timedelta

    from dashboard.activity.models import BoardVisit

    BoardVisit.objects.create(user=mover, seen_at=timezone.now() - timedelta(hours=1))
    AllocationJob.objects.filter(pk=accepted.pk).update(finished_at=timezone.now())
    sign_in(client)
    away = client.get("/jobs/away", headers=HX)
    assert away.status_code == 200 and f"Job {accepted.pk} accepted by CIC" in away.text
    assert "data-dismiss" in away.text
    # Signed out at once (no board poll noted the visit), then in again: not listed again.
    client.post("/accounts/logout/")
    sign_in(client)
    assert client.get("/jobs/away", headers=HX).status_code == 204
    # A job that finishes later is news again.
    later = AllocationJob.objects.create(
        requested_by=mover, agent_ids=["a1"], status=Status.FAILED, finished_at=timezone.now()
    )
    client.post("/accounts/logout/")
    sign_in(client)
    again = client.get("/jobs/away", headers=HX)
    assert f"Job {later.pk} failed" in again.text and f"Job {accepted.pk} " not in again.text


def test_a_job_seen_ending_on_the_board_is_not_news_at_the_next_sign_in(client, mover, job):
    from datetime import timedelta

    from dashboard.activity.models import BoardVisit

    sign_in(client)
    # The board's poll noted the visit a few seconds before the job ended (it writes every 10 s).
    BoardVisit.objects.create(user=mover, seen_at=timezone.now() - timedelta(seconds=5))
    job.status, job.finished_at = Status.SUCCEEDED, timezone.now()
    job.save()
    ended = client.get(f"/jobs/{job.pk}/status", headers=HX)  # the panel's poll shows its end
    assert ended.status_code == 286
    client.post("/accounts/logout/")
    sign_in(client)
    assert client.get("/jobs/away", headers=HX).status_code == 204


def test_the_outcome_note_tells_namesakes_apart(client, mover, dir_small):
    Agent.objects.filter(id__in=["a1", "a2"]).update(name="Ada Ivanova", has_live_client=False)
    job = AllocationJob.objects.create(
        requested_by=mover,
        agent_ids=["a1", "a2"],
        campaign_ids_in=["{C2}"],
        status=Status.SUCCEEDED,
        finished_at=timezone.now(),
    )
    client.force_login(mover)
    page = client.get(f"/jobs/{job.pk}/").text
    assert "No live CIC client when last seen: Ada Ivanova (a1), Ada Ivanova (a2)." in page


def test_the_audit_list_row_of_a_move_says_unassigned_and_the_jobs_words(
    client, auditor, mover, accepted
):
    """The list's row reads as the entry page: "Unassigned" for the side a move left empty and the
    job's outcome in the outcome filter's words, not its status code."""
    event = audit_record(
        kind=AuditEvent.Kind.SUCCEEDED,
        actor=mover,
        job=accepted,
        agent_ids=["a3"],
        campaign_ids_in=["{C2}"],
        campaign_ids_out=[],
        message="Move 1 agent into Winback",
    )
    client.force_login(auditor)
    html = client.get("/audit/").text
    row = re.search(rf'<tr data-audit-id="{event.pk}".*?</tr>', html, re.S).group(0)
    assert re.search(r"<td data-audit-out>.*Unassigned.*</td>", row)
    assert "<td data-audit-into>" in row and "Unassigned" not in row.split("<td data-audit-out>")[0]
    assert re.search(r"data-audit-outcome>Accepted by CIC<", row)


def test_the_audit_event_name_of_an_accepted_move_reads_as_the_job_status(
    client, auditor, mover, accepted
):
    """The Event column and the Event filter call a succeeded row what the job page calls it
    ("Move accepted by CIC"), not "Move succeeded": CIC accepted the move; whether the agent
    is on the campaign is what the "observed" row says."""
    event = audit_record(
        kind=AuditEvent.Kind.SUCCEEDED,
        actor=mover,
        job=accepted,
        agent_ids=["a3"],
        campaign_ids_in=["{C2}"],
        message="Move 1 agent into Winback",
    )
    client.force_login(auditor)
    html = client.get("/audit/").text
    row = re.search(rf'<tr data-audit-id="{event.pk}".*?</tr>', html, re.S).group(0)
    assert ">Move accepted by CIC</span>" in row
    assert "Move succeeded" not in html
    kind_select = re.search(r'<select name="kind">.*?</select>', html, re.S).group(0)
    assert '<option value="succeeded">Move accepted by CIC</option>' in kind_select
