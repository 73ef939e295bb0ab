"""The audit pages: list with filters and pages, htmx partial, one entry, exports, revert."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from dashboard.allocations.models import AllocationJob
from dashboard.audit.chain import row_hash
from dashboard.audit.checkpoints import key_id, sign
from dashboard.audit.export import export_message
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Agent, RosterEntry

Kind = AuditEvent.Kind
pytestmark = pytest.mark.postgres_too


@pytest.fixture
def as_auditor(client, auditor):
    client.force_login(auditor)
    return client


@pytest.fixture
def as_mover(client, mover):
    client.force_login(mover)
    return client


def body(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.text


class TestList:
    def test_shows_entries_with_the_viewer_timezone(self, as_auditor, moved):
        as_auditor.cookies["tz"] = "Asia/Tokyo"
        response = as_auditor.get(reverse("audit-list"))
        assert response.status_code == 200
        html = response.text
        assert "When (Asia/Tokyo)" in html
        for event in moved.audit_events.all():
            assert f'data-audit-id="{event.pk}"' in html
        assert "Winback short-staffed" in html

    def test_a_moves_row_names_who_asked_for_it_and_why(self, as_auditor, mover, moved):
        """The row standing for a move is its newest event, here the system's observation
        after it: it still says whose move it is and the reason they gave."""
        audit_record(  # as dashboard.presence.observe writes it: the system's
            kind=Kind.OBSERVED,
            actor=AnonymousUser(),
            job=moved,
            reason="",
            message="Presence of Agent 1 after the move",
        )
        response = as_auditor.get(reverse("audit-list"))
        lead = r'<tr data-audit-id="\d+" data-kind="observed".*?</tr>'
        row = re.search(lead, response.text, re.S)
        assert row, "the move's row is its observation"
        mover_note = f'<span class="muted" data-audit-mover>· move by {mover.username}</span>'
        assert f"<td>system {mover_note}</td>" in row[0]
        assert "Winback short-staffed" in row[0] and "Presence of Agent 1 after the move" in row[0]

    def test_a_moves_row_by_its_requester_names_them_once(self, as_auditor, mover):
        job = AllocationJob.objects.create(requested_by=mover, agent_ids=["a1"], reason="r")
        audit_record(kind=Kind.REQUESTED, job=job)  # the lead: the request itself, by them
        response = as_auditor.get(reverse("audit-list"))
        assert "data-audit-mover" not in response.text
        assert f"<td>{mover.username}</td>" in response.text

    def test_empty_log_says_so(self, as_auditor):
        response = as_auditor.get(reverse("audit-list"))
        assert "No entries yet" in response.text

    def test_no_match_says_the_filter_is_why(self, as_auditor, moved):
        response = as_auditor.get(reverse("audit-list"), {"actor": "nobody-like-this"})
        assert "No entries match this filter" in response.text

    def test_htmx_gets_only_the_table(self, as_auditor, moved):
        response = as_auditor.get(
            reverse("audit-list"),
            {"kind": "succeeded", "actor": "", "q": ""},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        assert response.text.lstrip().startswith('<div id="audit-table">')
        assert "<form" not in response.text
        assert response.text.count("data-audit-id=") == 1
        assert "HX-Request" in response["Vary"]
        assert response["HX-Push-Url"] == "/audit/?kind=succeeded"  # empty fields dropped

    def test_bad_filter_is_a_400_naming_the_field(self, as_auditor, moved):
        response = as_auditor.get(reverse("audit-list"), {"kind": "nope", "since": "soon"})
        assert response.status_code == 400
        assert "unknown event type" in response.text
        assert '<li data-audit-error="since"><strong>From</strong>' in response.text
        assert "data-audit-id" not in response.text

    @pytest.mark.parametrize(
        ("params", "field", "label", "names"),
        [
            ({"kind": "move"}, "kind", "Event", ["Move requested", "Move refused", "Plan run"]),
            ({"outcome": "ok"}, "outcome", "Outcome", ["Accepted by CIC", "Still in progress"]),
            ({"preset": "month"}, "preset", "When", ["This shift", "Last 7 days"]),
        ],
    )
    def test_an_unknown_choice_names_the_problem_and_the_choices_by_name(
        self, as_auditor, params, field, label, names
    ):
        response = as_auditor.get(reverse("audit-list"), params)
        assert response.status_code == 400
        item = re.search(rf'<li data-audit-error="{field}">(.*?)</li>', response.text, re.S)
        assert item, response.text
        text = item.group(1)
        value = next(iter(params.values()))
        assert text.startswith(f"<strong>{label}</strong>: ")
        assert "there is no such" in text and f"&#x27;{value}&#x27;" in text
        for name in names:
            assert name in text
        # The URL codes of the other choices are not what it lists.
        assert "requested, refused" not in text and "pending" not in text

    def test_pages_are_keyset_with_the_filter_kept(self, as_auditor, mover, settings):
        for i in range(30):  # a page holds 25 moves; each import is a move of its own
            audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message=f"import {i}")
        first = as_auditor.get(reverse("audit-list"), {"actor": "mover"})
        assert first.text.count("data-audit-id=") == 25
        events = AuditEvent.objects.order_by("-pk")
        oldest_shown = events[24].pk
        assert f"?actor=mover&amp;before={oldest_shown}" in first.text
        second = as_auditor.get(reverse("audit-list"), {"actor": "mover", "before": oldest_shown})
        assert second.text.count("data-audit-id=") == 5
        assert "data-next-page" not in second.text
        assert ">Newest<" in second.text

    def test_a_bad_page_cursor_is_named(self, as_auditor):
        response = as_auditor.get(reverse("audit-list"), {"before": "x"})
        assert response.status_code == 400
        assert "must be an entry id" in response.text

    def test_export_links_carry_the_filter(self, as_auditor, moved):
        response = as_auditor.get(reverse("audit-list"), {"agent": "a1", "kind": "succeeded"})
        assert 'href="/audit/export.csv?agent=a1&amp;kind=succeeded"' in response.text


class TestDetail:
    def test_shows_the_roster_before_and_after_with_names_escaped(self, as_auditor, moved):
        Agent.objects.filter(pk="a1").update(name="<img src=x onerror=alert(1)>")
        done = moved.audit_events.get(kind=Kind.SUCCEEDED)
        response = as_auditor.get(reverse("audit-detail", args=[done.pk]))
        assert response.status_code == 200
        assert "&lt;img src=x onerror=alert(1)&gt;" in response.text
        assert "<img src=x" not in response.text
        assert "Renewals" in response.text and "Winback" in response.text
        # into, its id where the pointer rests (as in the list), not a GUID beside every name
        assert 'href="/campaigns/%7BC2%7D/" title="{C2}">Winback</a>' in response.text
        assert 'href="/agents/a2/">Agent 2</a>' in response.text
        assert "data-revert" not in response.text  # auditors read; they do not move

    def test_a_step_without_a_reason_of_its_own_shows_the_moves(self, as_auditor, moved):
        done = moved.audit_events.get(kind=Kind.SUCCEEDED)
        page = as_auditor.get(reverse("audit-detail", args=[done.pk])).text
        assert "data-audit-move-reason" not in page  # it has its own: the move's
        system = audit_record(kind=Kind.OBSERVED, job=moved, reason="", message="Checked")
        page = as_auditor.get(reverse("audit-detail", args=[system.pk])).text
        assert "<dt>Reason</dt><dd>—</dd>" in page
        assert "data-audit-move-reason>Winback short-staffed <span" in page
        assert f"(given by {moved.requested_by.username})" in page

    def test_a_supervisor_sees_the_revert_button_on_a_success(self, as_mover, moved):
        done = moved.audit_events.get(kind=Kind.SUCCEEDED)
        assert "data-revert" in as_mover.get(reverse("audit-detail", args=[done.pk])).text
        requested = moved.audit_events.get(kind=Kind.REQUESTED)
        assert "data-revert" not in as_mover.get(reverse("audit-detail", args=[requested.pk])).text

    def test_missing_entry_is_404(self, as_auditor):
        assert as_auditor.get(reverse("audit-detail", args=[999999])).status_code == 404


class TestExport:
    def test_csv_is_exactly_the_filtered_rows_with_a_checkable_trailer(self, as_auditor, moved):
        response = as_auditor.get(reverse("audit-export-csv"), {"agent": "a1"})
        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith('attachment; filename="audit-')
        text = body(response)
        *lines, trailer = text.splitlines(keepends=True)
        rows = list(csv.DictReader(io.StringIO("".join(lines))))
        expected = AuditEvent.objects.filter(agent_search__contains="a1").order_by("-pk")
        assert [int(r["id"]) for r in rows] == [e.pk for e in expected]
        digest = hashlib.sha256("".join(lines).encode()).hexdigest()
        signed = f"key={key_id()},hmac={sign(export_message('csv', len(rows), digest))}"
        assert trailer == f"#trailer,rows={len(rows)},sha256={digest},{signed}\n"

    def test_csv_cells_a_spreadsheet_would_run_are_neutralised(self, as_auditor, moved):
        audit_record(kind=Kind.REFUSED, agent_ids=["a1"], reason='=HYPERLINK("http://x")')
        response = as_auditor.get(reverse("audit-export-csv"), {"agent": "a1"})
        *lines, _ = body(response).splitlines(keepends=True)
        newest = next(csv.DictReader(io.StringIO("".join(lines))))
        assert newest["reason"] == '\'=HYPERLINK("http://x")'
        jsonl = as_auditor.get(reverse("audit-export-jsonl"), {"agent": "a1"})
        assert json.loads(body(jsonl).splitlines()[0])["reason"] == '=HYPERLINK("http://x")'

    def test_jsonl_rows_recompute_to_their_chain_hashes(self, as_auditor, moved):
        response = as_auditor.get(reverse("audit-export-jsonl"))
        *lines, trailer = body(response).splitlines(keepends=True)
        records = [json.loads(line) for line in lines]
        assert len(records) == AuditEvent.objects.count() == 3
        for record in records:
            assert row_hash(record["prev_hash"], record) == record["hash"]
        digest = hashlib.sha256("".join(lines).encode()).hexdigest()
        mac = sign(export_message("jsonl", 3, digest))
        assert json.loads(trailer) == {
            "trailer": {"rows": 3, "sha256": digest, "key": key_id(), "hmac": mac}
        }

    def test_bad_filter_exports_nothing(self, as_auditor, moved):
        response = as_auditor.get(reverse("audit-export-csv"), {"outcome": "maybe"})
        assert response.status_code == 400
        assert "outcome: unknown outcome" in response.text


class TestRevert:
    def test_confirm_page_then_post_queues_the_way_back(self, as_mover, moved, no_enqueue):
        done = moved.audit_events.get(kind=Kind.SUCCEEDED)
        url = reverse("audit-revert", args=[done.pk])
        confirm = as_mover.get(url)
        assert confirm.status_code == 200
        assert "Revert 2 agents" in confirm.text
        assert "data-revert-left" not in confirm.text
        assert AllocationJob.objects.count() == 1  # a GET changes nothing

        response = as_mover.post(url)
        revert = AllocationJob.objects.get(revert_of=moved)
        assert response.status_code == 302
        assert response["Location"] == reverse("job-detail", args=[revert.pk])
        assert sorted(revert.agent_ids) == ["a1", "a2"]
        assert (revert.campaign_ids_in, revert.campaign_ids_out) == (["{C1}"], ["{C2}"])
        assert revert.reason == f"Revert of job {moved.pk}"
        assert revert.audit_events.filter(kind=Kind.REQUESTED).exists()
        no_enqueue.assert_called_with(revert.pk)

    def test_posting_twice_queues_one_revert(self, as_mover, moved):
        url = reverse("audit-revert", args=[moved.audit_events.get(kind=Kind.SUCCEEDED).pk])
        as_mover.post(url)
        as_mover.post(url)
        assert AllocationJob.objects.filter(revert_of=moved).count() == 1

    def test_two_posts_racing_on_one_plan_share_one_revert(self, mover, moved, no_enqueue):
        """The second post planned before the first queued its job: the key makes it the same."""
        from unittest import mock

        from dashboard.allocations import revert

        stale_plan = revert.job_revert_plan(job_id=moved.pk)
        first, _ = revert.job_revert(job_id=moved.pk, actor=mover)
        with mock.patch.object(revert, "job_revert_plan", return_value=stale_plan):
            second, _ = revert.job_revert(job_id=moved.pk, actor=mover)
        assert [j.pk for j in second] == [j.pk for j in first]
        assert AllocationJob.objects.filter(revert_of=moved).count() == 1

    def test_a_second_revert_names_the_first(self, as_mover, moved):
        url = reverse("audit-revert", args=[moved.audit_events.get(kind=Kind.SUCCEEDED).pk])
        as_mover.post(url)
        first = AllocationJob.objects.get(revert_of=moved)
        again = as_mover.get(url)
        assert again.status_code == 409
        assert f"being reverted by job {first.pk}" in again.text
        AllocationJob.objects.filter(pk=first.pk).update(status=AllocationJob.Status.SUCCEEDED)
        assert f"already reverted by job {first.pk}" in as_mover.get(url).text
        AllocationJob.objects.filter(pk=first.pk).update(status=AllocationJob.Status.FAILED)
        assert as_mover.get(url).status_code == 200  # a failed revert can be tried again
        as_mover.post(url)
        second = AllocationJob.objects.filter(revert_of=moved).exclude(pk=first.pk).get()
        assert second.status == AllocationJob.Status.QUEUED

    def test_an_agent_moved_since_is_left_alone(self, as_mover, moved):
        RosterEntry.objects.filter(agent_id="a2").delete()  # someone moved a2 out meanwhile
        Agent.objects.filter(pk="a2").update(roster_version=99)
        url = reverse("audit-revert", args=[moved.audit_events.get(kind=Kind.SUCCEEDED).pk])
        confirm = as_mover.get(url)
        assert "Revert 1 agent<" in confirm.text
        assert "moved since this job (roster now: no campaign)" in confirm.text
        as_mover.post(url)
        assert AllocationJob.objects.get(revert_of=moved).agent_ids == ["a1"]

    def test_nothing_left_to_revert_is_a_409_with_the_reason(self, as_mover, moved):
        RosterEntry.objects.all().delete()
        url = reverse("audit-revert", args=[moved.audit_events.get(kind=Kind.SUCCEEDED).pk])
        response = as_mover.get(url)
        assert response.status_code == 409
        assert "Nothing to revert" in response.text
        assert "moved since this job" in response.text
        response = as_mover.post(url, follow=True)
        assert "Nothing to revert: each agent is reverted already" in response.text
        assert not AllocationJob.objects.filter(revert_of=moved).exists()

    def test_auditor_cannot_revert(self, as_auditor, moved):
        url = reverse("audit-revert", args=[moved.audit_events.get(kind=Kind.SUCCEEDED).pk])
        assert as_auditor.get(url).status_code == 403
        assert as_auditor.post(url).status_code == 403
        assert not AllocationJob.objects.filter(revert_of=moved).exists()


# Kinds other features write (plans, approvals, sign-in, what was seen after a move): rows with
# and without a job, with details and no message, render in the list, the entry and the exports.
OTHER_KINDS = [
    AuditEvent.Kind.OBSERVED,
    AuditEvent.Kind.PLAN_CREATED,
    AuditEvent.Kind.PLAN_RUN,
    AuditEvent.Kind.APPROVAL_REQUESTED,
    AuditEvent.Kind.APPROVAL_EXPIRED,
    AuditEvent.Kind.SIGN_IN,
    AuditEvent.Kind.SIGN_IN_REFUSED,
    AuditEvent.Kind.ROLE_CHANGED,
    AuditEvent.Kind.READY_FOR_CALLS,
]


@pytest.mark.parametrize("with_job", [False, True])
@pytest.mark.parametrize("kind", OTHER_KINDS)
def test_other_kinds_render_with_their_details(as_auditor, mover, moved, kind, with_job):
    event = audit_record(
        kind=kind,
        actor=mover,
        job=moved if with_job else None,
        details={"plan": "Morning <cover>", "roles": ["supervisor", "auditor"], "count": 3},
    )
    listing = as_auditor.get(reverse("audit-list"), {"kind": kind}).text
    assert f'data-audit-id="{event.pk}"' in listing
    if not with_job:  # a row of its own says what its details say
        assert "count: 3, plan: Morning &lt;cover&gt;" in listing
    entry = as_auditor.get(reverse("audit-detail", args=[event.pk]))
    assert entry.status_code == 200
    assert "<dt>plan</dt><dd>Morning &lt;cover&gt;</dd>" in entry.text
    assert "<dt>roles</dt><dd>[&quot;supervisor&quot;, &quot;auditor&quot;]</dd>" in entry.text
    for fmt in ("csv", "jsonl"):
        response = as_auditor.get(reverse(f"audit-export-{fmt}"), {"kind": kind})
        assert response.status_code == 200
        text = body(response)
        assert str(event.pk) in text
    record = json.loads(text.splitlines()[0])
    assert (record["id"], record["kind"], record["details"]["count"]) == (event.pk, kind, 3)
    assert record["job_id"] == (moved.pk if with_job else None)


def test_list_pages_show_a_move_straddling_the_boundary_once(as_auditor, mover, monkeypatch):
    """Through the page itself, following its own "Older entries" links: every move once."""
    from dashboard.board.views import audit as audit_views

    monkeypatch.setattr(audit_views, "PAGE_SIZE", 2)
    for i in range(3):
        audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message=f"import {i}")
    job = AllocationJob.objects.create(requested_by=mover, agent_ids=["a1"], reason="r")
    for kind in (Kind.REQUESTED, Kind.STARTED):
        audit_record(kind=kind, job=job)
    audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message="import between")
    audit_record(kind=Kind.SUCCEEDED, job=job)
    seen, params = [], {}
    while True:
        html = as_auditor.get(reverse("audit-list"), params).text
        seen += re.findall(r'<tr data-audit-id="(\d+)"', html)
        found = re.search(r'data-next-page hx-get="[^"]*before=(\d+)"', html)
        if not found:
            break
        params = {"before": found.group(1)}
    leads = [int(pk) for pk in seen]
    assert len(leads) == len(set(leads)) == 5  # the job once, four imports
    assert leads[0] == job.audit_events.get(kind=Kind.SUCCEEDED).pk


def test_steps_with_details_only_cost_no_query_each(as_auditor, mover, moved):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert as_auditor.get(reverse("audit-list")).status_code == 200
        return len(captured)

    before = queries()
    for i in range(5):  # steps whose headline comes from their details
        audit_record(kind=Kind.OBSERVED, job=moved, details={"seen": f"a1 in {{C2}} #{i}"})
    assert queries() == before


def test_a_row_written_before_names_were_kept_names_campaigns_from_the_directory(as_auditor, moved):
    """Rows older than migration 0005 carry no names: their campaign cells show today's
    directory names (an id it no longer knows as itself), asked once per id, not per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    def legacy_row() -> AuditEvent:
        return AuditEvent.objects.create(
            at=timezone.now(),
            kind=Kind.ROSTER_IMPORT,
            campaign_ids_in=["{C1}", "{C404}"],
            campaign_ids_out=["{C2}"],
            message="<legacy>",
        )

    def page() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as captured:
            html = as_auditor.get(reverse("audit-list")).text
        return html, len(captured)

    first = legacy_row()
    _, one_row = page()
    legacy_row()
    legacy_row()
    html, three_rows = page()
    assert three_rows == one_row
    row = re.search(rf'<tr data-audit-id="{first.pk}".*?</tr>', html, re.S).group(0)
    assert (
        '<td data-audit-into><span title="{C1}">Renewals</span>, '
        '<span title="{C404}">{C404}</span></td>'
    ) in row
    assert '<td data-audit-out><span title="{C2}">Winback</span></td>' in row
    assert '<span class="muted">&lt;legacy&gt;</span>' in row


class TestTimeZoneWords:
    def test_the_time_fields_name_the_viewers_zone_and_offset(self, as_auditor):
        as_auditor.cookies["tz"] = "Asia/Tokyo"
        html = as_auditor.get(reverse("audit-list")).text
        note = re.search(r"<p id=\"audit-zone-note\"[^>]*>(.*?)</p>", html, re.S).group(1)
        assert "Times in <strong>Asia/Tokyo</strong> (UTC+09:00), your browser's time zone" in note
        for name in ("since", "until"):
            field = re.search(rf'<input type="datetime-local" name="{name}"[^>]*>', html).group(0)
            assert 'aria-describedby="audit-zone-note"' in field
        assert "Today (Asia/Tokyo)" not in html  # said once, by the note, not in each option

    def test_without_the_browsers_zone_it_says_the_servers_is_used(self, as_auditor):
        html = as_auditor.get(reverse("audit-list")).text
        assert "Times in <strong>UTC</strong> (UTC+00:00), the server's time zone" in html

    def test_a_preset_shows_the_range_it_selects(self, as_auditor, moved):
        from datetime import datetime
        from zoneinfo import ZoneInfo

        as_auditor.cookies["tz"] = "Asia/Tokyo"
        html = as_auditor.get(reverse("audit-list"), {"preset": "today"}).text
        today = datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%a %Y-%m-%d")
        shown = re.search(r"<p [^>]*data-audit-range>(.*?)</p>", html, re.S).group(1)
        assert shown == f"Showing Today: {today} 00:00 to now (Asia/Tokyo)."
        html = as_auditor.get(
            reverse("audit-list"), {"since": "2026-11-17T09:30", "until": "2026-11-18"}
        ).text
        shown = re.search(r"<p [^>]*data-audit-range>(.*?)</p>", html, re.S).group(1)
        assert shown == "Showing Tue 2026-11-17 09:30 to Wed 2026-11-18 23:59 (Asia/Tokyo)."
