"""The board live: presence, another supervisor's move, session end and ICWS health, in Chromium.

Real parts: the simulator over HTTP, the presence listener (a thread, as the drills run it),
the live server, the board's one-second revision poll.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from django.db.models import F
from playwright.sync_api import expect

from dashboard.directory.models import Agent, RosterEntry
from dashboard.presence.listener import Listener
from icws_client import IcwsClient
from tests.browser.conftest import SCREENSHOTS, make_user
from tests.integration.conftest import pick_move

LIVE_MS = 2_000  # issue 15: within 2 s
HEALTH_MS = 5_000  # the top bar turns within 5 s of ICWS going down


@pytest.fixture
def supervisor_user(transactional_db, django_user_model):
    return make_user(django_user_model, "sam", "supervisor")


@pytest.fixture
def listener(settings, simulator, directory):
    settings.LISTENER_POLL_SECONDS = 0.1
    settings.LISTENER_STALE_SECONDS = 2.0
    stop = threading.Event()
    running = Listener(
        lambda: IcwsClient(
            simulator.base_url,
            settings.ICWS_USER,
            settings.ICWS_PASSWORD,
            timeout=1.0,
            backoff_base=0.01,
        ),
        stop,
        backoff_base=0.05,
        backoff_cap=0.2,
    )
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not Agent.objects.filter(presence_updated_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the listener wrote no presence"
        time.sleep(0.05)
    yield running
    stop.set()
    thread.join(timeout=10)


def card(page, column: str, agent: str):
    return page.locator(f'[data-cards][data-campaign-id="{column}"] [data-agent-id="{agent}"]')


def test_a_presence_change_reaches_the_board_within_2_s(
    login, page, directory, listener, supervisor_user, simulator
):
    (agent,), source, _ = pick_move(directory)
    login(supervisor_user)
    page.wait_for_timeout(1_200)  # let the first poll settle
    body = {"userId": agent, "statusId": "At Lunch", "onPhone": False}
    requests.post(f"{simulator.base_url}/sim/user-status", json=body, timeout=5).raise_for_status()
    expect(card(page, source, agent)).to_contain_text("At Lunch", timeout=LIVE_MS)


def test_another_supervisors_move_reaches_the_board_within_2_s(
    login, page, directory, supervisor_user
):
    (agent,), source, target = pick_move(directory)
    login(supervisor_user)
    expect(card(page, source, agent)).to_be_visible()
    # What a committed move by someone else leaves behind: the roster and its version.
    RosterEntry.objects.filter(agent_id=agent, campaign_id=source).delete()
    RosterEntry.objects.create(agent_id=agent, campaign_id=target)
    Agent.objects.filter(id=agent).update(roster_version=F("roster_version") + 1)
    expect(card(page, target, agent)).to_be_visible(timeout=LIVE_MS)
    expect(card(page, source, agent)).to_have_count(0)


def test_a_session_ended_elsewhere_leads_to_the_whole_page_sign_in(
    login, page, directory, supervisor_user, live_server
):
    login(supervisor_user)
    page.context.clear_cookies()  # signed out in another tab, or the session expired
    page.wait_for_url(f"{live_server.url}/accounts/login/?next=*", timeout=5_000)
    expect(page.locator("input[name=username]")).to_be_visible()
    assert page.locator("#board-columns").count() == 0  # the whole page, not a fragment
    assert page.locator("dialog input[name=username]").count() == 0


def test_the_health_indicator_turns_within_5_s_of_icws_going_down(
    login, page, directory, listener, supervisor_user, simulator
):
    login(supervisor_user)
    health = page.locator("[data-icws-health]")
    expect(health).not_to_have_attribute("data-icws-health", "down")
    faults = {"down": True}
    requests.post(f"{simulator.base_url}/sim/faults", json=faults, timeout=5).raise_for_status()
    expect(health).to_have_attribute("data-icws-health", "down", timeout=HEALTH_MS)


def test_search_ignores_accents_and_folds_columns_with_no_match(
    login, page, directory, supervisor_user
):
    (agent,), source, _ = pick_move(directory)
    Agent.objects.filter(id=agent).update(name="José Núñez")
    login(supervisor_user)
    page.fill("[data-filter=q]", "jose nun")
    expect(card(page, source, agent)).to_be_visible()
    column = page.locator(f'details[data-campaign-id="{source}"]')
    expect(column.locator("[data-shown-note]")).to_contain_text("1 of")
    folded = page.locator("details.column-nomatch")
    assert folded.count() > 0


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080), (800, 900)], ids=str)
def test_screenshots_of_the_board(login, page, directory, supervisor_user, size):
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    login(supervisor_user)
    expect(page.locator("#jobs-title")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"board_{width}x{height}.png"))
    if width <= 800:  # the jobs panel is on screen without scrolling past the columns
        box = page.locator(".jobs-panel").bounding_box()
        assert box["y"] < height
