"""Deferred columns in Chromium: past the first screenful a column carries its cards as text
(board_heads.DEFERRED) and board.js makes them when the column comes near the viewport. The
filters, "select all", keyboard moves and live presence must treat those agents as any other.

Every column is deferred here (INLINE_COLUMNS = 0) and the window is short, so the columns
start below the fold and none has its cards made until the test brings it on screen.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from dashboard.board.selectors import board_view
from dashboard.board.templatetags import board_heads
from dashboard.directory.models import Agent
from tests.browser.conftest import board_ready, make_user
from tests.browser.test_board import card, expect_job_status, submitted_job
from tests.browser.test_live import LIVE_MS, board_current, listener  # noqa: F401 - a fixture
from tests.integration.conftest import pick_move, wait_for

SHORT = {"width": 1500, "height": 260}  # the filters and the move bar fill it


@pytest.fixture
def supervisor_user(transactional_db, django_user_model):
    return make_user(django_user_model, "sam", "supervisor")


@pytest.fixture
def deferred(monkeypatch, page):
    monkeypatch.setattr(board_heads, "INLINE_COLUMNS", 0)
    page.set_viewport_size(SHORT)


CAMPAIGNS = "lists => lists.map(list => list.dataset.campaignId)"


def not_made(page, campaign: str):
    """The column's list still holds its cards as text: no card of it is on the page."""
    return page.locator(f'ul[data-deferred][data-campaign-id="{campaign}"]')


def test_a_filter_finds_an_agent_whose_column_is_not_made_yet(
    login, page, directory, supervisor_user, deferred
):
    (agent,), source, _ = pick_move(directory)
    name = Agent.objects.get(id=agent).name
    login(supervisor_user)
    expect(not_made(page, source)).to_have_count(1)
    expect(page.locator(f'[data-agent-id="{agent}"]')).to_have_count(0)
    waiting = set(page.eval_on_selector_all("ul[data-deferred]", CAMPAIGNS))
    page.fill("[data-filter=q]", name)
    column = page.locator(f'details[data-campaign-id="{source}"]')
    headcount = int(column.locator("[data-headcount]").text_content())
    expect(column.locator("[data-shown-note]")).to_have_text(f"1 of {headcount} shown")
    # Every other column folds to its head (none of its agents match), so this one is on
    # screen now: its cards are made, with the filter applied to them.
    column.scroll_into_view_if_needed()
    expect(card(page, source, agent)).to_be_visible()
    expect(column.locator("[data-agent-id]:visible")).to_have_count(1)
    expect(not_made(page, source)).to_have_count(0)
    # The folded columns came on screen too, with nothing of theirs to show: still text. (Not
    # a count of every list: a column made at load may go back to text once far off screen.)
    page.wait_for_timeout(300)
    folded = set(page.eval_on_selector_all("details.column-nomatch ul[data-cards]", CAMPAIGNS))
    assert folded & waiting, "the test needs folded columns that were text"
    assert folded & waiting <= set(page.eval_on_selector_all("ul[data-deferred]", CAMPAIGNS))


def test_select_all_counts_the_agents_of_columns_not_made_yet(
    login, page, directory, supervisor_user, deferred
):
    login(supervisor_user)
    board = board_view()
    # What "Select all shown" selects: every agent with a card in an open column.
    agents = {c.agent.id for col in board.columns if not col.collapsed for c in col.cards}
    made = page.locator("#board-columns [data-agent-id]").count()
    assert len(agents) > made, "the test needs agents whose cards are not on the page"
    page.click("[data-select-all]")
    expect(page.locator("[data-selection-count]")).to_have_text(
        re.compile(rf"^{len(agents)} selected( \(\d+ cards\))?$")
    )
    # A column brought on screen afterwards shows its cards ticked.
    last = page.locator("#board-columns details[data-campaign-id]:has(ul[data-deferred])").last
    campaign = last.get_attribute("data-campaign-id")
    last.scroll_into_view_if_needed()
    cards = page.locator(f'[data-cards][data-campaign-id="{campaign}"] [data-agent-id]')
    expect(cards.first).to_be_visible()
    assert cards.count() == cards.locator("input[name=pick]:checked").count() > 0
    expect(cards.first).to_have_class(re.compile(r"\bselected\b"))
    # The move posts every one of them: the confirmation counts them.
    page.click("[data-move-open]")
    expect(page.locator("#move-dialog")).to_contain_text(f"{len(agents)} agents")


def test_a_keyboard_move_out_of_and_into_columns_not_made_yet(
    login, page, directory, worker, supervisor_user, simulator, deferred
):
    (agent,), source, target = pick_move(directory)
    login(supervisor_user)
    expect(not_made(page, source)).to_have_count(1)
    expect(not_made(page, target)).to_have_count(1)
    # Tab onto the column's head: its cards are made, so Tab goes on into them.
    page.locator(f'details[data-campaign-id="{source}"] > summary').focus()
    box = card(page, source, agent).locator("input[name=pick]")
    expect(box).to_be_attached()
    box.focus()
    page.keyboard.press("Space")
    expect(page.locator("[data-selection-count]")).to_have_text("1 selected")
    page.locator("[data-move-target]").select_option(target)
    page.locator("[data-move-open]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-move-reason]")).to_be_focused()
    page.keyboard.press("Enter")
    job = submitted_job(page)
    expect_job_status(page, job.pk, "succeeded")
    # The source column, made, without her card (far off screen it may be text again: made
    # once on screen; a refresh's remaking at once is test_board_unmade.py's).
    page.locator(f'details[data-campaign-id="{source}"]').scroll_into_view_if_needed()
    expect(
        page.locator(f'[data-cards][data-campaign-id="{source}"] [data-agent-id]').first
    ).to_be_attached()
    expect(card(page, source, agent)).to_have_count(0)
    # The target column is made when it comes on screen, with the moved card in it.
    page.locator(f'details[data-campaign-id="{target}"]').scroll_into_view_if_needed()
    expect(card(page, target, agent)).to_be_visible()


def test_a_presence_change_reaches_a_column_not_made_yet(
    login,
    page,
    directory,
    listener,  # noqa: F811 - the fixture imported above
    supervisor_user,
    simulator,
    deferred,
):
    _, source, _ = pick_move(directory)
    (column_now,) = [c for c in board_view().columns if c.id == source]
    # Someone available now, whom "At Lunch" makes away.
    agent = next(c.agent.id for c in column_now.cards if c.agent.presence == "available")
    login(supervisor_user)
    board_ready(page)
    board_current(page)
    expect(not_made(page, source)).to_have_count(1)
    column = page.locator(f'details[data-campaign-id="{source}"]')
    before = column.locator(".tot.away").text_content()
    body = {"userId": agent, "statusId": "At Lunch", "onPhone": False}
    requests.post(f"{simulator.base_url}/sim/user-status", json=body, timeout=5).raise_for_status()
    wait_for(lambda: Agent.objects.get(id=agent).status_id == "At Lunch")
    (after,) = [c.totals["away"] for c in board_view().columns if c.id == source]
    assert str(after) != before, "the test needs a change the head's totals show"
    # The head's totals count her as away (from the column's text) within the 2 s...
    expect(column.locator(".tot.away")).to_have_text(str(after), timeout=LIVE_MS)
    expect(not_made(page, source)).to_have_count(1)
    # ...and her card says so once it is made.
    column.scroll_into_view_if_needed()
    expect(card(page, source, agent)).to_contain_text("At Lunch")
    expect(card(page, source, agent)).to_have_class(re.compile(r"\baway\b"))
