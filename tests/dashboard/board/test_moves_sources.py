"""The preview names the source each warning rests on (issue 13 items 2 and 6)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from django.utils import timezone

from dashboard.directory.models import Agent, Campaign
from dashboard.presence import health
from dashboard.presence.models import ListenerState

pytestmark = pytest.mark.django_db


def _preview(client, mover, target="{C2}", agent="a1"):
    client.force_login(mover)
    pick = f"{quote('{C1}', safe='')}/{agent}/0"
    return client.get("/moves/preview", {"pick": [pick], "target": target}).content.decode()


def test_an_unknown_target_state_is_warned(client, mover, dir_small):
    Campaign.objects.filter(id="{C2}").update(state="unknown", state_source="")
    html = _preview(client, mover)
    assert "No source gives the state of Winback" in html
    assert "no admin has recorded one" in html


def test_a_known_target_state_gives_no_unknown_warning(client, mover, dir_small):
    Campaign.objects.filter(id="{C2}").update(state="on", state_source="icws")
    assert "No source gives the state" not in _preview(client, mover)


def test_an_admin_recorded_state_says_by_whom_and_when_with_the_note(client, mover, dir_small):
    at = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    Campaign.objects.filter(id="{C3}").update(
        state="paused",
        state_source="admin",
        state_recorded_by="dana",
        state_recorded_at=at,
        state_note="List <refresh>",
    )
    html = _preview(client, mover, target="{C3}")
    when = f"{timezone.localtime(at):%Y-%m-%d %H:%M %Z}"
    assert "Surveys is paused (recorded by an admin)" in html
    assert f"Recorded by dana on {when}: &quot;List &lt;refresh&gt;&quot;." in html


def test_no_live_client_names_the_listener_and_when_it_was_heard(client, mover, dir_small):
    heard = timezone.now() - dt.timedelta(minutes=3)
    Agent.objects.filter(id="a1").update(has_live_client=False, client_updated_at=heard)
    health.set_status(ListenerState.Status.LIVE, transport="sse", agents=4)
    html = _preview(client, mover)
    assert "as CIC&#x27;s session list reported it to the ICWS listener, last at" in html
    assert f"{timezone.localtime(heard):%Y-%m-%d %H:%M %Z}" in html
    assert "the listener is down now" not in html
    health.set_status(ListenerState.Status.RECONNECTING, error="refused")
    assert "the listener is down now, so this may be out of date" in _preview(client, mover)


def test_the_logon_campaign_right_names_the_sync_that_read_it(client, mover, dir_small):
    read = timezone.now() - dt.timedelta(hours=1)
    Agent.objects.filter(id="a1").update(has_logon_campaign_right=True, logon_right_read_at=read)
    html = _preview(client, mover)
    assert "Holds the Logon Campaign right: Agent 1 (the user&#x27;s securityRights in CIC" in html
    assert f"read by the directory sync at {timezone.localtime(read):%Y-%m-%d %H:%M %Z}" in html


def test_falling_under_an_admin_staffing_target_is_warned(client, mover, dir_small):
    Campaign.objects.filter(id="{C1}").update(staffing_target=2)  # a1 and a2 are in it
    html = _preview(client, mover)
    words = "Renewals drops to 1 agent, under its staffing target of 2 (recorded by an admin)."
    assert words in html
    Campaign.objects.filter(id="{C1}").update(staffing_target=1)
    assert "staffing target" not in _preview(client, mover)
