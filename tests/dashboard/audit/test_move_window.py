"""A broad text filter's move page on PostgreSQL walks a window of the newest rows first, then
asks the index for the rows below it (``selectors._window_leads``). Split at any id, the pages
must be the ones the plain definition gives: each move once, on the page of its newest matching
row, with the steps the filter matched (which is what SQLite runs)."""

from __future__ import annotations

import pytest
from django.db import connection

from dashboard.audit import selectors
from dashboard.audit.models import AuditEvent
from dashboard.audit.search import fold
from dashboard.audit.selectors import audit_filter_from_params, audit_move_page
from dashboard.audit.services import audit_record

from .conftest import run_move

Kind = AuditEvent.Kind
pytestmark = pytest.mark.postgres_too


@pytest.fixture
def moves(mover, dir_small, icws_stub):
    """Four moves whose later rows interleave, and rows without a job between them."""
    jobs = [run_move(mover, icws_stub, agents=(a,)) for a in ("a1", "a2", "a3", "a4")]
    for i, job in enumerate(jobs * 2):
        audit_record(kind=Kind.OBSERVED, job=job, message=f"seen in place {i % 3}")
        if i % 3 == 0:
            audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message=f"seen in import {i}")
    return jobs


def expected_pages(text: str, limit: int) -> tuple[list[list[int]], dict[int, set[int]]]:
    """The plain definition: rows whose folded text holds ``text``; a lead is a job's newest
    such row or a row without a job; pages of ``limit`` leads, newest first."""
    rows = [e for e in AuditEvent.objects.order_by("-pk") if fold(text) in e.search_text]
    leads, seen, matched = [], set(), {}
    for e in rows:
        matched.setdefault(e.job_id, set()).add(e.pk)
        if e.job_id is None or e.job_id not in seen:
            leads.append(e.pk)
            seen.add(e.job_id)
    pages = [leads[i : i + limit] for i in range(0, len(leads), limit)] or [[]]
    return pages, matched


def walk(text: str, limit: int) -> tuple[list[list[int]], dict[int, set[int]]]:
    audit_filter, _ = audit_filter_from_params({"q": text})
    pages, matched, before = [], {}, None
    while True:
        page = audit_move_page(audit_filter, before, limit)
        pages.append([m.lead.pk for m in page.items])
        for m in page.items:
            if m.lead.job_id:
                matched[m.lead.job_id] = m.matched_ids
        if page.next_before is None:
            return pages, matched
        before = page.next_before


@pytest.mark.parametrize("window", [1, 2, 3, 5, 8, 1000])
@pytest.mark.parametrize("limit", [1, 2, 3, 50])
@pytest.mark.parametrize("text", ["seen in", "in place 1", "seen in import", "place import"])
def test_window_then_index_gives_the_plain_pages(moves, monkeypatch, text, limit, window):
    monkeypatch.setattr(selectors, "WALK_ROWS", window)
    monkeypatch.setattr(selectors, "FEW_ROWS", -1)  # every typed phrase is broad
    windows = []
    real = selectors._window_leads
    monkeypatch.setattr(selectors, "_window_leads", lambda *a: windows.append(a) or real(*a))
    pages, matched = walk(text, limit)
    want_pages, want_matched = expected_pages(text, limit)
    assert pages == want_pages
    # Every move's marked steps are the ones the filter matches.
    assert matched == {job: ids for job, ids in want_matched.items() if job is not None}
    # "place import" matches no row ("place" and "import" never meet) and is broad too.
    # PostgreSQL took the window path (SQLite has no indexes to spare and scans).
    assert bool(windows) == (connection.vendor == "postgresql")
