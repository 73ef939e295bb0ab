"""The dense board (issue 15 items 4-5): one-line cards with time in state, column totals and
staffing, lazy off columns, the server-side workgroup filter, density, the columns cache."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.board.templatetags.board_cards import elapsed
from dashboard.directory.models import Agent, Campaign, RosterEntry

REFRESH = {"HX-Request": "true", "HX-Target": "board-columns"}


@pytest.fixture
def page(client, mover, dir_small):
    client.force_login(mover)

    def get(**params):
        response = client.get("/", params)
        assert response.status_code == 200
        return response.content.decode()

    return get


def card_of(html: str, column: str, agent: str) -> str:
    """The markup of ``agent``'s card in ``column`` (a card ends where the next one starts)."""
    list_start = html.index(f'<ul class="cards" data-cards data-campaign-id="{column}"')
    body = html[list_start : html.index("</ul>", list_start)]
    match = re.search(rf'<li [^>]*data-agent-id="{re.escape(agent)}".*?(?=<li |$)', body, re.S)
    assert match, f"no card for {agent} in {column}"
    return match.group(0)


def head_of(html: str, column: str) -> str:
    start = html.index(f'data-campaign-id="{column}" data-state=')
    return html[start : html.index("</summary>", start)]


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "<1m"), (59, "<1m"), (60, "1m"), (3599, "59m"), (3900, "1h05")]
)
def test_time_in_state_reads_in_minutes_and_hours(seconds, text):
    assert elapsed(seconds) == text


@pytest.mark.postgres_too  # time in state is computed by the database there
def test_a_card_is_one_line_with_status_on_call_marker_and_time_in_state(page):
    five_minutes_ago = timezone.now() - timedelta(minutes=5, seconds=3)
    Agent.objects.filter(id="a1").update(
        logged_in=True, on_phone=True, status_id="Campaign Call", status_changed=five_minutes_ago
    )
    Agent.objects.filter(id="a2").update(logged_in=True, status_id="At Lunch")
    html = page()
    on_call = card_of(html, "{C1}", "a1")
    assert 'class="on-call"' in on_call and 'aria-label="on a call"' in on_call
    assert "<small>Campaign Call</small>" in on_call
    assert re.search(r'data-s="30[3-9]"', on_call) and "data-t=5m" in on_call
    assert 'href="/agents/a1/"' in on_call and ">Agent 1</a></label>" in on_call
    away = card_of(html, "{C1}", "a2")
    assert 'class="away"' in away and "<small>At Lunch</small>" in away
    assert "data-s=" not in away and "data-t" not in away  # never heard: no clock
    assert 'class="offline"' in card_of(html, "", "a3")


@pytest.mark.postgres_too
def test_time_in_state_is_cics_status_change_before_when_the_listener_heard_it(page):
    now = timezone.now()
    Agent.objects.filter(id="a1").update(
        logged_in=True,
        status_id="Available",
        status_changed=now - timedelta(minutes=40),
        presence_updated_at=now,  # a reconnect re-read it just now
    )
    Agent.objects.filter(id="a2").update(
        logged_in=True, status_id="Available", presence_updated_at=now - timedelta(minutes=2)
    )
    html = page()
    assert "data-t=40m" in card_of(html, "{C1}", "a1")
    assert "data-t=2m" in card_of(html, "{C1}", "a2")


def test_the_column_head_has_totals_and_the_staffing_target(page):
    Agent.objects.filter(id="a1").update(logged_in=True, on_phone=True)
    Agent.objects.filter(id="a2").update(logged_in=True, status_id="Available")
    Campaign.objects.filter(id="{C1}").update(staffing_target=3)
    head = head_of(page(), "{C1}")
    assert 'aria-label="1 on a call, 1 available, 0 away"' in head
    assert re.search(r'class="target under" data-staffing[^>]*>2/3<', head)
    Campaign.objects.filter(id="{C1}").update(staffing_target=2)
    assert re.search(r'class="target" data-staffing[^>]*>2/2<', head_of(page(), "{C1}"))
    assert "data-staffing" not in head_of(page(), "{C2}")  # no target recorded


def test_a_long_campaign_name_is_shown_whole(page):
    name = "Renewals and Winback for the Evening Shift, Northern Region (Spanish speakers)"
    Campaign.objects.filter(id="{C1}").update(name=name)
    assert f'<span class="column-name">{name}</span>' in page()


def test_an_off_column_with_agents_renders_its_cards_only_once_opened(page):
    RosterEntry.objects.create(agent_id="a3", campaign_id="{C3}")
    html = page()
    lazy = html[html.index('data-campaign-id="{C3}" data-lazy') :]
    lazy = lazy[: lazy.index("</ul>")]
    assert "data-agent-id" not in lazy
    assert re.search(r'href="/campaigns/(%7B|\{)C3(%7D|\})/"', lazy)
    assert "Show its 1 agents" in lazy
    # Counted all the same: a3 is logged out.
    assert '<span class="headcount" data-headcount>1</span>' in head_of(html, "{C3}")
    assert 'aria-label="0 on a call, 0 available, 0 away"' in head_of(html, "{C3}")
    opened = page(open="{C3}")
    assert 'data-agent-id="a3"' in card_of(opened, "{C3}", "a3")


def test_the_workgroup_filter_is_applied_by_the_server(page):
    html = page(workgroup="Care")
    assert "wg-out" in card_of(html, "{C1}", "a1") and " hidden" in card_of(html, "{C1}", "a1")
    assert "wg-out" not in card_of(html, "", "a3")
    # A search leaves cards on the page for board.js, not marked as outside the workgroup.
    assert "wg-out" not in card_of(page(q="agent 3"), "{C1}", "a1")


@pytest.mark.parametrize(
    ("cookie", "density", "pressed"),
    [
        (None, "compact", "false"),
        ("comfortable", "comfortable", "true"),
        ("<x>", "compact", "false"),
    ],
)
def test_the_density_is_remembered_in_a_cookie(client, mover, dir_small, cookie, density, pressed):
    client.force_login(mover)
    if cookie:
        client.cookies["board_density"] = cookie
    html = client.get("/").content.decode()
    assert f'<div class="board-layout" data-density="{density}">' in html
    assert re.search(rf'data-density-toggle aria-pressed="{pressed}"', html)


@pytest.mark.postgres_too
def test_the_columns_are_rendered_once_per_revision(client, mover, dir_small):
    client.force_login(mover)
    client.get("/", headers=REFRESH)
    with CaptureQueriesContext(connection) as cached:
        again = client.get("/", headers=REFRESH).content.decode()
    assert not any("directory_rosterentry" in q["sql"] for q in cached.captured_queries)
    assert 'data-agent-id="a1"' in again
    # Anything that moves the revision renders afresh: a move, a state an admin records.
    RosterEntry.objects.filter(agent_id="a1").delete()
    Agent.objects.filter(id="a1").update(roster_version=1)
    moved = client.get("/", headers=REFRESH).content.decode()
    assert 'data-agent-id="a1"' in card_of(moved, "", "a1")
    Campaign.objects.filter(id="{C2}").update(state="paused")
    assert 'data-campaign-id="{C2}" data-state="paused"' in client.get("/").content.decode()


def test_the_clock_and_the_render_time_are_both_on_the_page(client, mover, dir_small):
    """Cached columns carry the time they were rendered; the wrapper the server's time now."""
    client.force_login(mover)
    html = client.get("/", headers=REFRESH).content.decode()
    now = int(re.search(r'data-now="(\d+)"', html).group(1))
    rendered = int(re.search(r'data-rendered-at="(\d+)"', html).group(1))
    assert abs(now - timezone.now().timestamp()) < 5 and rendered <= now
