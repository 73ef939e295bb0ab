"""listener_health(), /readyz detail and /metrics for the listener."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dashboard.presence import health
from dashboard.presence.models import ListenerState
from dashboard.presence.selectors import listener_health

pytestmark = pytest.mark.django_db


def test_live_listener_with_a_fresh_heartbeat_is_live():
    health.set_status(ListenerState.Status.LIVE, transport="sse", agents=3)
    state = listener_health()
    assert state.ok and state.status == "live" and state.transport == "sse" and state.agents == 3


def test_a_listener_that_stopped_beating_is_stale_since_its_last_beat(settings):
    health.set_status(ListenerState.Status.LIVE, transport="sse", agents=3)
    beat = ListenerState.objects.get().heartbeat_at
    later = beat + dt.timedelta(seconds=settings.LISTENER_STALE_SECONDS + 1)
    state = listener_health(now=later)
    assert state.status == "stale" and state.since == beat
    assert "stopped reporting" in state.last_error


def test_reconnecting_is_stale_with_its_error_and_counts_a_reconnect():
    health.set_status(ListenerState.Status.LIVE, transport="poll", agents=1)
    health.set_status(ListenerState.Status.RECONNECTING, error="IcwsConnectionError: refused")
    health.set_status(ListenerState.Status.RECONNECTING, error="IcwsConnectionError: refused")
    state = listener_health()
    assert state.status == "stale" and "refused" in state.last_error
    assert state.reconnects == 1  # one outage, however many attempts


def test_readyz_detail_names_the_listener_only_with_the_token(client, settings):
    settings.METRICS_TOKEN = "t" * 32
    health.set_status(ListenerState.Status.RECONNECTING, error="IcwsConnectionError: refused")
    anonymous = client.get("/readyz").json()
    assert "listener" not in anonymous
    detail = client.get("/readyz", HTTP_AUTHORIZATION="Bearer " + "t" * 32).json()
    assert detail["listener"]["status"] == "stale"
    assert detail["listener"]["ok"] is False
    assert "refused" in detail["listener"]["error"]


def test_metrics_export_the_listener(client, settings):
    settings.METRICS_TOKEN = "t" * 32
    health.set_status(ListenerState.Status.LIVE, transport="sse", agents=2)
    health.beat(events=5)
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 32).content.decode()
    assert "dashboard_listener_up 1" in text
    assert "dashboard_listener_events_total 5" in text
    assert "dashboard_listener_last_event_timestamp_seconds" in text
    assert timezone.now()  # the row's times are timezone-aware
