"""The top bar's ICWS health: the last directory sync, overruled by a newer move ICWS failed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import SyncRun

pytestmark = pytest.mark.django_db

Status = AllocationJob.Status


def health(client, user) -> str:
    client.force_login(user)
    html = client.get("/jobs/").content.decode()
    start = html.index('<span class="health')
    return html[start : html.index("</span>", start)]


def synced(ok: bool = True, error: str = "") -> None:
    SyncRun.objects.create(finished_at=timezone.now(), ok=ok, agents=4, campaigns=3, error=error)


def job(mover, status, **fields) -> AllocationJob:
    return AllocationJob.objects.create(
        requested_by=mover, status=status, started_at=timezone.now(), **fields
    )


def test_before_any_sync_it_says_so(client, mover):
    assert 'unknown">' in health(client, mover)
    assert "not synced yet" in health(client, mover)


def test_a_good_sync_is_connected_and_a_failed_one_unreachable(client, mover):
    synced()
    assert "ICWS: connected" in health(client, mover)
    assert re.search(r"synced <time [^>]+>\d\d:\d\d:\d\d UTC</time>", health(client, mover))
    synced(ok=False, error="connection refused")
    assert "ICWS: unreachable" in health(client, mover)


def test_a_newer_move_icws_did_not_answer_overrules_the_sync(client, mover):
    synced()
    job(
        mover,
        Status.RETRYING,
        error_message="ICWS could not be reached",
    )
    shown = health(client, mover)
    assert 'data-icws-health="down"' in shown
    assert "ICWS: not answering" in shown
    assert "Latest move: ICWS could not be reached" in shown
    # A later move that went through: ICWS answers again.
    later = job(mover, Status.SUCCEEDED)
    AllocationJob.objects.filter(pk=later.pk).update(
        updated_at=timezone.now() + timedelta(seconds=1)
    )
    assert "ICWS: connected" in health(client, mover)


def test_a_move_that_failed_for_other_reasons_says_nothing_about_icws(client, mover):
    synced()
    job(mover, Status.FAILED, error_kind=AllocationJob.ErrorKind.ICWS, error_message="403")
    assert "ICWS: connected" in health(client, mover)
