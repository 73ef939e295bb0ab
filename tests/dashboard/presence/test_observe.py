"""After CIC accepts a move, the audit records what was observed (issue 13 item 6)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.allocations.explain import outcome_note
from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent
from dashboard.presence import health
from dashboard.presence.models import ListenerState
from dashboard.presence.observe import observe_recent_moves
from dashboard.presence.selectors import job_observations
from dashboard.presence.tasks import observe_moves_task

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_too]


def _job(user, agent_ids, *, seconds_ago=20.0, status=AllocationJob.Status.SUCCEEDED):
    finished = timezone.now() - dt.timedelta(seconds=seconds_ago)
    return AllocationJob.objects.create(
        requested_by=user,
        agent_ids=agent_ids,
        campaign_ids_in=["{C2}"],
        status=status,
        finished_at=finished,
    )


def _observed(job):
    return list(AuditEvent.objects.filter(job=job, kind=AuditEvent.Kind.OBSERVED))


def test_one_agent_moved_reads_presence_and_live_client(mover, dir_small):
    health.set_status(ListenerState.Status.LIVE, transport="sse", agents=4)
    Agent.objects.filter(id="a1").update(
        status_id="Available", logged_in=True, has_live_client=True
    )
    job = _job(mover, ["a1"])
    assert observe_recent_moves() == 1
    (row,) = _observed(job)
    assert row.message == "Presence of Agent 1 after the move: Available; live CIC client: yes."
    assert row.actor is None and row.actor_username == ""  # the dashboard looked, not the mover
    assert row.details["observable"] is True
    assert row.details["agents"]["a1"] == {
        "presence": "Available",
        "live_client": True,
        "heard_since_move": False,
    }
    assert row.agent_ids == ["a1"]


def test_several_agents_are_counted_and_those_without_a_client_named(mover, dir_small):
    health.set_status(ListenerState.Status.LIVE, transport="poll", agents=4)
    Agent.objects.filter(id__in=["a1", "a2"]).update(
        status_id="Available", logged_in=True, has_live_client=True
    )
    Agent.objects.filter(id="a3").update(status_id="Away", logged_in=True, has_live_client=False)
    job = _job(mover, ["a1", "a2", "a3", "a4"])
    observe_recent_moves()
    (row,) = _observed(job)
    assert "4 agents: live CIC client yes 2, no 1, unknown 1" in row.message
    assert "Available 2" in row.message and "logged out 1" in row.message
    assert "No live client (the move may not take): Agent 3." in row.message
    assert row.details["agents_total"] == 4


def test_nothing_observable_while_the_listener_is_down(mover, dir_small):
    health.set_status(ListenerState.Status.RECONNECTING, error="IcwsConnectionError: refused")
    job = _job(mover, ["a1"])
    observe_recent_moves()
    (row,) = _observed(job)
    assert row.message.startswith("Nothing observable after the move: the ICWS listener is down")
    assert row.details["observable"] is False and row.details["listener"] == "stale"


def test_a_listener_that_never_ran_is_nothing_observable_too(mover, dir_small):
    job = _job(mover, ["a1"])
    observe_moves_task()  # the beat task, called directly
    (row,) = _observed(job)
    assert "Nothing observable" in row.message and row.details["listener"] == "never"


def test_each_job_is_observed_once_and_only_inside_its_window(mover, dir_small, settings):
    health.set_status(ListenerState.Status.LIVE, transport="sse", agents=4)
    due = _job(mover, ["a1"], seconds_ago=settings.OBSERVE_AFTER_SECONDS + 5)
    too_soon = _job(mover, ["a2"], seconds_ago=settings.OBSERVE_AFTER_SECONDS / 2)
    too_late = _job(mover, ["a3"], seconds_ago=settings.OBSERVE_WINDOW_SECONDS + 5)
    failed = _job(mover, ["a4"], status=AllocationJob.Status.FAILED)
    assert observe_recent_moves() == 1
    assert observe_recent_moves() == 0  # already observed
    assert len(_observed(due)) == 1
    assert not _observed(too_soon) and not _observed(too_late) and not _observed(failed)
    later = timezone.now() + dt.timedelta(seconds=settings.OBSERVE_AFTER_SECONDS)
    assert observe_recent_moves(now=later) == 1  # the early one, once it is due
    assert len(_observed(too_soon)) == 1


def test_the_job_page_note_carries_the_observation(mover, dir_small):
    health.set_status(ListenerState.Status.LIVE, transport="sse", agents=4)
    Agent.objects.filter(id="a1").update(
        status_id="Away", logged_in=True, on_phone=True, has_live_client=False
    )
    job = _job(mover, ["a1"])
    before = outcome_note(job)
    assert "Observed" not in before
    observe_recent_moves()
    (seen,) = job_observations(job)
    assert seen.observable and seen.message.endswith("live CIC client: no.")
    note = outcome_note(job)
    assert note.startswith("CIC accepted the move (HTTP 202)")
    assert f"Observed {seen.clock}: Presence of Agent 1 after the move: Away, on a call" in note


def test_the_job_page_and_the_audit_page_show_it(client, mover, dir_small):
    health.set_status(ListenerState.Status.RECONNECTING, error="refused")
    job = _job(mover, ["a1"])
    observe_recent_moves()
    client.force_login(mover)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "Nothing observable after the move: the ICWS listener is down" in page
    audit = client.get("/audit/", {"kind": "observed"}).content.decode()
    assert "Observed after move" in audit
