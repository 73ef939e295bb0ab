"""Audit filters, alone and combined, and keyset pages that hold still while rows arrive."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from dashboard.allocations.errors import MoveRefused
from dashboard.allocations.submit import job_submit
from dashboard.audit.models import AuditEvent
from dashboard.audit.selectors import (
    audit_events,
    audit_filter_from_params,
    audit_iter,
    audit_move_page,
)
from dashboard.audit.services import audit_record
from icws_client import IcwsForbidden

from .conftest import run_move

Kind = AuditEvent.Kind
pytestmark = pytest.mark.postgres_too


def ids(params: dict) -> set[int]:
    audit_filter, errors = audit_filter_from_params(params)
    assert errors == {}
    return {e.pk for e in audit_events(audit_filter, limit=1000)}


@pytest.fixture
def history(mover, admin_user_role, dir_small, icws_stub):
    """mover: a1 {C1}->{C2} succeeded; ada: a3 {C3}->{C2} failed (403); mover: a4 queued."""
    ok = run_move(mover, icws_stub, agents=("a1",), reason="Winback short-staffed")
    icws_stub.allocate_agents.side_effect = IcwsForbidden(
        "The user is not licensed for dialer supervision", status=403, error_id="error.noLicense"
    )
    bad = run_move(admin_user_role, icws_stub, agents=("a3",), ins=("{C2}",), outs=("{C3}",))
    pending, _ = job_submit(
        actor=mover, agent_ids=["a4"], campaign_ids_in=["{C1}"], reason="Renewals backlog"
    )
    return {
        "ok": set(ok.audit_events.values_list("pk", flat=True)),
        "bad": set(bad.audit_events.values_list("pk", flat=True)),
        "pending": set(pending.audit_events.values_list("pk", flat=True)),
    }


def test_no_filter_returns_everything_newest_first(history):
    audit_filter, _ = audit_filter_from_params({})
    events = audit_events(audit_filter, limit=1000)
    assert {e.pk for e in events} == history["ok"] | history["bad"] | history["pending"]
    assert [e.pk for e in events] == sorted((e.pk for e in events), reverse=True)


def test_actor(history):
    assert ids({"actor": "ada"}) == history["bad"]
    assert ids({"actor": "mover"}) == history["ok"] | history["pending"]
    assert ids({"actor": "someone-else"}) == set()


def test_agent_matches_any_event_naming_it(history):
    assert ids({"agent": "a1"}) == history["ok"]
    assert ids({"agent": "a3"}) == history["bad"]


def test_campaign_matches_in_or_out(history):
    assert ids({"campaign": "{C3}"}) == history["bad"]
    assert ids({"campaign": "{C2}"}) == history["ok"] | history["bad"]
    assert ids({"campaign": "{C1}"}) == history["ok"] | history["pending"]


def test_outcome_is_what_became_of_the_move(history):
    assert ids({"outcome": "succeeded"}) == history["ok"]
    assert ids({"outcome": "failed"}) == history["bad"]
    assert ids({"outcome": "pending"}) == history["pending"]
    assert ids({"outcome": "cancelled"}) == set()


def test_outcome_refused(mover, dir_small, no_role_user, history):
    with pytest.raises(MoveRefused):
        job_submit(actor=no_role_user, agent_ids=["a2"], campaign_ids_in=["{C2}"])
    refused = AuditEvent.objects.get(kind=Kind.REFUSED)
    assert ids({"outcome": "refused"}) == {refused.pk}
    assert ids({"kind": "refused", "actor": "nobody"}) == {refused.pk}


def test_kind(history):
    failed = AuditEvent.objects.get(kind=Kind.FAILED)
    assert ids({"kind": "failed"}) == {failed.pk}
    assert failed.icws_status == 403
    assert "not licensed" in failed.icws_message


def test_text_searches_reason_and_messages_case_insensitively(history):
    assert ids({"q": "WINBACK SHORT"}) == history["ok"]
    assert ids({"q": "not licensed"}) == {AuditEvent.objects.get(kind=Kind.FAILED).pk}


def test_combined_filters_narrow_each_other(history):
    assert ids({"actor": "mover", "campaign": "{C1}", "outcome": "pending"}) == history["pending"]
    assert ids({"actor": "mover", "agent": "a3"}) == set()
    assert ids({"campaign": "{C2}", "kind": "succeeded"}) == {
        AuditEvent.objects.get(kind=Kind.SUCCEEDED).pk
    }


def test_time_range_is_read_in_the_viewer_timezone(db, mover):
    tokyo = ZoneInfo("Asia/Tokyo")
    with timezone.override(tokyo):
        event = audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message="import")
        local = timezone.localtime(event.at, tokyo)
        minute = local.strftime("%Y-%m-%dT%H:%M")
        assert ids({"since": minute}) == {event.pk}
        assert ids({"until": minute}) == {event.pk}  # until 12:34 includes that minute
        earlier = (local - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
        assert ids({"until": earlier}) == set()
        assert ids({"since": local.strftime("%Y-%m-%d")}) == {event.pk}
        assert ids({"until": local.strftime("%Y-%m-%d")}) == {event.pk}  # the whole day
        audit_filter, _ = audit_filter_from_params({"since": minute})
        assert audit_filter.since == local.replace(second=0, microsecond=0)


@pytest.mark.parametrize(
    ("params", "field", "text"),
    [
        ({"kind": "deleted"}, "kind", "unknown event type 'deleted'"),
        ({"outcome": "maybe"}, "outcome", "unknown outcome 'maybe'"),
        ({"since": "yesterday"}, "since", "must be a date"),
        ({"until": "2026-13-40"}, "until", "must be a date"),
        ({"since": "2026-11-20", "until": "2026-11-19"}, "until", "must be after"),
        ({"actor": "x" * 201}, "actor", "at most 200 characters"),
        ({"q": "y" * 500}, "q", "at most 200 characters"),
    ],
)
def test_bad_parameters_are_named(db, params, field, text):
    _, errors = audit_filter_from_params(params)
    assert list(errors) == [field]
    assert text in errors[field]


def test_as_params_round_trips(db):
    params = {"actor": "mover", "campaign": "{C1}", "since": "2026-11-17T09:30", "kind": "failed"}
    audit_filter, errors = audit_filter_from_params(params)
    assert errors == {}
    assert audit_filter.as_params() == params
    assert audit_filter.active
    assert not audit_filter_from_params({})[0].active


def test_keyset_pages_hold_still_while_new_rows_arrive(db, mover):
    for i in range(7):
        audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message=f"import {i}")
    everything, _ = audit_filter_from_params({})
    first = audit_events(everything, limit=3)
    for i in range(5):  # someone keeps working while the auditor reads
        audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message=f"later {i}")
    second = audit_events(everything, before_id=first[-1].pk, limit=3)
    third = audit_events(everything, before_id=second[-1].pk, limit=3)
    seen = [e.message for e in first + second + third]
    assert seen == [f"import {i}" for i in range(6, -1, -1)]


def test_iter_walks_every_row_in_chunks(db, mover):
    for i in range(7):
        audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message=f"import {i}")
    audit_filter, _ = audit_filter_from_params({})
    rows = list(audit_iter(audit_filter, chunk=2))
    assert [e.message for e in rows] == [f"import {i}" for i in range(6, -1, -1)]


def test_moments_are_stored_in_utc(db, mover):
    event = audit_record(kind=Kind.ROSTER_IMPORT, actor=mover)
    assert event.at.utcoffset().total_seconds() == 0
    assert isinstance(event.at, datetime)


def _walk_moves(params: dict, limit: int) -> list[list[int]]:
    """Every page of moves, as each page's lead ids, following next_before to the end."""
    audit_filter, _ = audit_filter_from_params(params)
    pages, before = [], None
    while True:
        page = audit_move_page(audit_filter, before, limit)
        pages.append([m.lead.pk for m in page.items])
        if page.next_before is None:
            return pages
        before = page.next_before


@pytest.fixture
def interleaved(mover, dir_small, icws_stub):
    """Three moves whose events interleave in id order: a, then b, then an import, then two
    later rows of a (observed after the move) and one of b, so a's and b's rows straddle any
    small page boundary."""
    a = run_move(mover, icws_stub, agents=("a1",))
    b = run_move(mover, icws_stub, agents=("a2",))
    audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message="import")
    audit_record(kind=Kind.OBSERVED, job=a, message="a1 seen in {C2}")
    audit_record(kind=Kind.OBSERVED, job=b, message="a2 seen in {C2}")
    audit_record(kind=Kind.OBSERVED, job=a, message="a1 still in {C2}")
    return a, b


@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_move_pages_list_each_move_once_across_page_boundaries(interleaved, limit):
    a, b = interleaved
    pages = _walk_moves({}, limit)
    leads = [pk for page in pages for pk in page]
    events = AuditEvent.objects.all()
    newest = {job.pk: events.filter(job=job).order_by("-pk")[0].pk for job in (a, b)}
    import_row = events.get(kind=Kind.ROSTER_IMPORT).pk
    # Newest first, each move once (on the page of its newest row), none dropped.
    assert leads == [newest[a.pk], newest[b.pk], import_row]
    assert all(len(page) <= limit for page in pages)
    assert all(len(page) == limit for page in pages[:-1])


def test_move_page_shows_every_step_and_marks_the_ones_matched(interleaved):
    a, _ = interleaved
    audit_filter, _ = audit_filter_from_params({"kind": "observed", "q": "a1"})
    page = audit_move_page(audit_filter, None, 50)
    assert [m.lead.job_id for m in page.items] == [a.pk]
    move = page.items[0]
    observed = set(a.audit_events.filter(kind=Kind.OBSERVED).values_list("pk", flat=True))
    assert [s.pk for s in move.steps] == sorted(a.audit_events.values_list("pk", flat=True))
    assert move.matched_ids == observed
    assert move.other_matched_ids == observed - {move.lead.pk}


@pytest.mark.usefixtures("interleaved")
def test_move_page_of_a_filter_that_matches_older_steps_only():
    """kind=succeeded: the lead is the job's succeeded row, not its newer observed rows."""
    audit_filter, _ = audit_filter_from_params({"kind": "succeeded"})
    pages = _walk_moves({"kind": "succeeded"}, 1)
    succeeded = AuditEvent.objects.filter(kind=Kind.SUCCEEDED).order_by("-pk")
    assert [pk for page in pages for pk in page] == list(succeeded.values_list("pk", flat=True))
    assert audit_filter.kind == "succeeded"
