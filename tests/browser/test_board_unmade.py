"""Deferred columns go back to text far off screen: board.js unmakes the cards of a made deferred
column once it is more than half a screen away (FAR), and makes them again from the text when it
comes back, with what the board knew of them meanwhile: the selection, the filter, presence
patched while it was text, and keyboard focus holding it made.

A board of 30 campaigns (generated seed), every column deferred (INLINE_COLUMNS = 0) and a
window 260 px high, so a column two rows away (a row is about 480 px) is far off screen.
"""

from __future__ import annotations

import re

import pytest
import requests
from django.db.models import F
from playwright.sync_api import expect

from dashboard.board.selectors import board_view
from dashboard.directory.models import Agent
from tests.browser.conftest import board_ready

# The deferred board's window, fixture and supervisor, as test_board_deferred sets them up.
from tests.browser.test_board_deferred import deferred, not_made, supervisor_user  # noqa: F401
from tests.browser.test_live import LIVE_MS, board_current, card, listener  # noqa: F401 - a fixture
from tests.integration.conftest import generated_world, wait_for


@pytest.fixture
def simulator():
    """This module's simulator: 400 agents in 30 campaigns (the board's rows reach far below)."""
    yield from generated_world(agents=400, campaigns=30)


# Whether the column's cards are on the page as the refreshed columns come in (htmx:afterSwap,
# after board.js's own listener), before the observer could make them.
MADE_AT_SWAP = """campaign => {
  window.madeAtSwap = null;
  document.addEventListener("htmx:afterSwap", event => {
    if (event.detail.target.id !== "board-columns") { return; }
    const text = document.querySelector(`ul[data-deferred][data-campaign-id="${campaign}"]`);
    window.madeAtSwap = text ? "text" : "made";
  });
}"""


def a_far_column():
    """A running campaign's column far down the board (the 15th or later), with two available
    agents (one to select, one whose presence changes) and one that is not available (hidden by
    the presence filter)."""
    columns = [c for c in board_view().columns if c.campaign is not None and not c.collapsed]
    for column in columns[14:]:
        available = [c.agent.id for c in column.cards if c.agent.presence == "available"]
        other = [c.agent.id for c in column.cards if c.agent.presence != "available"]
        if len(available) >= 2 and other:
            return column.id, available[0], available[1], other[0]
    raise AssertionError("the generated seed has no such column")


def test_a_column_far_off_screen_goes_back_to_text_keeping_selection_filter_and_presence(
    login,
    page,
    directory,
    listener,  # noqa: F811 - the fixture imported above
    supervisor_user,  # noqa: F811 - the fixture imported above
    simulator,
    deferred,  # noqa: F811
):
    campaign, chosen, changing, hidden = a_far_column()
    login(supervisor_user)
    board_ready(page)
    board_current(page)
    column = page.locator(f'details[data-campaign-id="{campaign}"]')
    expect(not_made(page, campaign)).to_have_count(1)

    # On screen: made. Her card ticked (the checkbox has focus), the presence filter on.
    column.scroll_into_view_if_needed()
    expect(not_made(page, campaign)).to_have_count(0)
    card(page, campaign, chosen).locator("input[name=pick]").check()
    expect(page.locator("[data-selection-count]")).to_have_text("1 selected")
    page.locator("[data-filter=presence]").select_option("available")
    expect(card(page, campaign, hidden)).to_be_hidden()
    card(page, campaign, chosen).locator("input[name=pick]").focus()

    # Far off screen with keyboard focus in it: kept made (Tab must go on through its cards).
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(500)
    expect(not_made(page, campaign)).to_have_count(0)
    # Focus elsewhere: back to text (the old board.js kept every made column made).
    page.locator("[data-filter=q]").focus()
    expect(not_made(page, campaign)).to_have_count(1)
    expect(card(page, campaign, chosen)).to_have_count(0)
    expect(page.locator("[data-selection-count]")).to_have_text("1 selected")

    # A presence change while it is text: the head's totals count it at once...
    away_before = column.locator(".tot.away").text_content()
    body = {"userId": changing, "statusId": "At Lunch", "onPhone": False}
    requests.post(f"{simulator.base_url}/sim/user-status", json=body, timeout=5).raise_for_status()
    wait_for(lambda: Agent.objects.get(id=changing).status_id == "At Lunch")
    expect(column.locator(".tot.away")).to_have_text(str(int(away_before) + 1), timeout=LIVE_MS)
    expect(not_made(page, campaign)).to_have_count(1)

    # ...and back on screen the cards are made again with all of it: her card still ticked,
    # the filter still hiding who is not available (now the one who went to lunch too).
    column.scroll_into_view_if_needed()
    expect(not_made(page, campaign)).to_have_count(0)
    chosen_card = card(page, campaign, chosen)
    expect(chosen_card).to_be_visible()
    expect(chosen_card).to_have_class(re.compile(r"\bselected\b"))
    expect(chosen_card.locator("input[name=pick]")).to_be_checked()
    expect(card(page, campaign, hidden)).to_be_hidden()
    expect(card(page, campaign, changing)).to_be_hidden()
    page.locator("[data-filter=presence]").select_option("")
    expect(card(page, campaign, changing)).to_be_visible()
    expect(card(page, campaign, changing)).to_contain_text("At Lunch")
    expect(card(page, campaign, changing)).to_have_class(re.compile(r"\baway\b"))
    expect(column.locator(".tot.away")).to_have_text(str(int(away_before) + 1))
    expect(page.locator("[data-selection-count]")).to_have_text("1 selected")

    # A refresh of the columns (a roster change) while it is made: made again at once, and it
    # still goes back to text far off screen afterwards.
    column.scroll_into_view_if_needed()
    expect(not_made(page, campaign)).to_have_count(0)
    page.evaluate(MADE_AT_SWAP, campaign)
    Agent.objects.filter(id=hidden).update(roster_version=F("roster_version") + 1)
    assert page.wait_for_function("() => window.madeAtSwap").json_value() == "made"
    expect(chosen_card.locator("input[name=pick]")).to_be_checked()
    page.locator("[data-filter=q]").focus()
    page.evaluate("() => window.scrollTo(0, 0)")
    expect(not_made(page, campaign)).to_have_count(1)
    expect(page.locator("[data-selection-count]")).to_have_text("1 selected")
    # The move posts her from the text: the confirmation names one agent.
    page.click("[data-move-open]")
    expect(page.locator("#move-dialog")).to_contain_text(f"({chosen})")
    expect(page.locator("[data-move-confirm-button]")).to_have_text("Move 1 agent")


def test_a_shift_click_range_keeps_its_anchor_through_the_text(
    login,
    page,
    directory,
    supervisor_user,  # noqa: F811 - the fixture imported above
    simulator,
    deferred,  # noqa: F811
):
    campaign, _, _, _ = a_far_column()
    login(supervisor_user)
    board_ready(page)
    column = page.locator(f'details[data-campaign-id="{campaign}"]')
    column.scroll_into_view_if_needed()
    expect(not_made(page, campaign)).to_have_count(0)
    cards = column.locator("li[data-agent-id]")
    cards.nth(0).locator("input[name=pick]").check()  # the range's anchor
    expect(page.locator("[data-selection-count]")).to_have_text("1 selected")

    page.locator("[data-filter=q]").focus()
    page.evaluate("() => window.scrollTo(0, 0)")
    expect(not_made(page, campaign)).to_have_count(1)
    column.scroll_into_view_if_needed()
    expect(not_made(page, campaign)).to_have_count(0)

    # Made again, the anchor is the same card: shift-click on the third selects all three
    # (without it, a shift-click is a plain click: the selection would be the third alone).
    cards.nth(2).locator("a").click(modifiers=["Shift"])
    expect(page.locator("[data-selection-count]")).to_have_text("3 selected")
    for n in range(3):
        expect(cards.nth(n).locator("input[name=pick]")).to_be_checked()
