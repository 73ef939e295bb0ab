"""A refresh of the columns (someone's move, a job's end, the top bar's health) replaces every
column: the supervisor's view of the board must not move with it, and a card under her pointer
must not be replaced before she lets go.

A board of 8 campaigns, most of 20 to 100 agents (lists that scroll within their columns). For
the view's tests every column is deferred and the window 260 px high (test_board_deferred's),
so the first row of columns is off screen above the second one's.
"""

from __future__ import annotations

import pytest
from django.db.models import F
from playwright.sync_api import expect

from dashboard.board.selectors import board_view
from dashboard.directory.models import Agent
from tests.browser.conftest import (
    COUNT_REFRESHES,
    board_poll,
    board_ready,
    hold_the_next_poll,
    make_user,
    polls_sent,
    press,
    whole_board_asked,
)

# The deferred board's window, fixture and supervisor, as test_board_deferred sets them up.
from tests.browser.test_board_deferred import deferred, not_made, supervisor_user  # noqa: F401
from tests.browser.test_live import LIVE_MS, board_current, card
from tests.integration.conftest import generated_world, pick_move


@pytest.fixture
def simulator():
    yield from generated_world(agents=400, campaigns=8)


# Where the column is in the window, the window's scroll and the scroll of its list.
VIEW = """campaign => {
  const column = document.querySelector(`details[data-campaign-id="${campaign}"]`);
  return [Math.round(column.getBoundingClientRect().top), Math.round(window.scrollY),
          column.querySelector("ul[data-cards]").scrollTop];
}"""


def long_column_below_the_first_row(page):
    """A running campaign's column with a list longer than its column shows, in a row below the
    first, and the first column's first agent: a roster change there refreshes the board."""
    columns = [c for c in board_view().columns if c.campaign is not None and not c.collapsed]
    long = [c.id for c in columns if len(c.cards) > 30]
    below = page.evaluate(BELOW_THE_FIRST_ROW, long)
    assert below, "the generated seed has no long column below the first row"
    return next(c for c in columns if c.id == below[0]), columns[0].cards[0].agent.id


BELOW_THE_FIRST_ROW = """ids => {
  const top = id => document.querySelector(`details[data-campaign-id="${id}"]`).offsetTop;
  const first = document.querySelector("#board-columns details[data-campaign-id]").offsetTop;
  return ids.filter(id => top(id) > first);
}"""


@pytest.fixture
def long_column(
    login,
    page,
    directory,
    supervisor_user,  # noqa: F811 - the fixture imported above
    simulator,
    deferred,  # noqa: F811
):
    """Signed in on a current board, scrolled to a long column below the first row (made):
    that column and the agent whose roster change refreshes the board."""
    login(supervisor_user)
    board_ready(page)
    board_current(page)
    source, other = long_column_below_the_first_row(page)
    page.locator(f'details[data-campaign-id="{source.id}"]').scroll_into_view_if_needed()
    expect(not_made(page, source.id)).to_have_count(0)
    return source, other


def test_a_refresh_keeps_the_view_and_a_lists_scroll(page, long_column):
    source, other = long_column
    campaign = source.id
    column = page.locator(f'details[data-campaign-id="{campaign}"]')
    column.locator("ul[data-cards]").evaluate("list => { list.scrollTop = 200; }")
    page.wait_for_timeout(100)  # the first row has been drawn off screen: its height is known
    before = page.evaluate(VIEW, campaign)
    assert before[1] > 0 and before[2] == 200

    page.evaluate(COUNT_REFRESHES)
    Agent.objects.filter(id=other).update(roster_version=F("roster_version") + 1)
    page.wait_for_function("() => window.swaps > 0", timeout=LIVE_MS)
    page.wait_for_timeout(300)  # some frames: content-visibility has settled every column
    # The first row, off screen above, kept its height (not content-visibility's 260 px for a
    # column never drawn): the column is where it was in the window, its list scrolled as it was,
    # and it is still made (it never left the screen).
    assert page.evaluate(VIEW, campaign) == before
    expect(not_made(page, campaign)).to_have_count(0)


def test_a_refresh_waits_for_the_pressed_card_to_be_let_go(page, long_column):
    source, other = long_column
    agent = source.cards[0].agent.id
    pressed = card(page, source.id, agent)
    pressed.evaluate("el => { el.dataset.mark = 'before'; }")  # a refresh's card has no mark
    page.evaluate(COUNT_REFRESHES)
    press(page, pressed)  # held, not moved: SortableJS has not begun a drag (nor may it yet)

    Agent.objects.filter(id=other).update(roster_version=F("roster_version") + 1)
    # Two polls came due while it was held (each would have brought the new columns): asked
    # for none, swapped none, the card under the pointer is the one pressed.
    page.wait_for_function("() => window.polls >= 2", timeout=LIVE_MS)
    assert page.evaluate("() => window.swaps") == 0
    expect(card(page, source.id, agent)).to_have_attribute("data-mark", "before")

    page.mouse.up()  # let go: the refresh comes
    page.wait_for_function("() => window.swaps > 0", timeout=LIVE_MS)
    expect(card(page, source.id, agent)).not_to_have_attribute("data-mark", "before")


@pytest.mark.parametrize("role", ["auditor", "supervisor", "pending"])
def test_a_native_drag_of_a_cards_link_does_not_stop_the_refreshes(
    login, page, directory, django_user_model, simulator, role
):
    """A press that ends in a native drag SortableJS did not begin is let go with no pointerup:
    an auditor's board has no SortableJS and a pending card is filtered out of it, so the name's
    link drags natively (a supervisor's SortableJS ignores links and drags the card instead)."""
    (agent,), source, _ = pick_move(directory)
    login(make_user(django_user_model, "u1", "supervisor" if role == "pending" else role))
    board_current(page)
    page.evaluate(COUNT_REFRESHES)
    if role == "pending":
        card(page, source, agent).evaluate("el => el.classList.add('pending')")
    x, y = press(page, card(page, source, agent).locator("label a"))
    for step in range(1, 10):
        page.mouse.move(x + 20 * step, y + 15 * step)
    # Held while it is dragged: Chromium's pointercancel after dragstart lets nothing go.
    other = Agent.objects.exclude(id=agent).values_list("id", flat=True)[0]
    Agent.objects.filter(id=other).update(roster_version=F("roster_version") + 1)
    page.wait_for_timeout(2_500)  # two polls came due
    assert page.evaluate("() => window.swaps") == 0, "the columns were swapped under the drag"
    page.mouse.up()
    page.keyboard.press("Escape")  # the supervisor's drop may have opened a confirmation
    Agent.objects.filter(id=agent).update(roster_version=F("roster_version") + 1)
    page.wait_for_function("() => window.swaps > 0", timeout=LIVE_MS)


def test_a_poll_answered_current_during_a_press_asks_for_no_whole_board(
    login,
    page,
    directory,
    supervisor_user,  # noqa: F811 - the fixture imported above
    simulator,
):
    """A poll answered 204 (the board is current) while a card is pressed held nothing back:
    letting go must not ask for a render of every column (rev="") that nothing changed."""
    (agent,), source, _ = pick_move(directory)
    login(supervisor_user)
    board_current(page)
    page.evaluate(COUNT_REFRESHES)
    held_back = hold_the_next_poll(page)  # until the card is pressed
    press(page, card(page, source, agent).locator("input[name=pick]"))
    sent = polls_sent(page)
    with page.expect_response(lambda r: r.status == 204 and board_poll(r.url)):
        held_back[0].continue_()
    page.unroute(board_poll)
    page.mouse.up()
    page.wait_for_function("() => window.polls >= 3", timeout=LIVE_MS)  # two more since
    assert sent and not whole_board_asked(sent)
    assert page.evaluate("() => window.swaps") == 0


def test_a_cancelled_press_does_not_stop_the_refreshes(
    login,
    page,
    directory,
    supervisor_user,  # noqa: F811 - the fixture imported above
    simulator,
):
    """A pen's press the browser takes for a pan ends in pointercancel, with no pointerup (nor
    mouse or touch events): the board must poll again, not stay held until the next click."""
    (agent,), source, _ = pick_move(directory)
    login(supervisor_user)
    board_current(page)
    card(page, source, agent).evaluate(
        """el => {
          const at = { bubbles: true, cancelable: true, button: 0, pointerType: "pen" };
          el.dispatchEvent(new PointerEvent("pointerdown", at));
          el.dispatchEvent(new PointerEvent("pointercancel", at));
        }"""
    )
    sent = polls_sent(page)  # sent, not only due (a held board cancels each poll it asks for)
    for _ in range(60):
        if len(sent) >= 2:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"{len(sent)} polls of the columns sent in 3 s after the press ended")


@pytest.mark.parametrize("control", ["input[name=pick]", "label a"])
def test_a_refresh_keeps_the_keyboards_place(
    login,
    page,
    directory,
    supervisor_user,  # noqa: F811 - the fixture imported above
    simulator,
    control,
):
    """Focus on a card's checkbox or name, another supervisor's move refreshes the columns: the
    new columns' same card has the focus (the swap would leave it on the page's body)."""
    (agent,), source, _ = pick_move(directory)
    other = Agent.objects.exclude(id=agent).filter(active=True).values_list("id", flat=True)[0]
    login(supervisor_user)
    board_current(page)
    focused = card(page, source, agent).locator(control)
    focused.focus()
    focused.evaluate("el => { el.dataset.mark = 'before'; }")  # a swapped-in one has none
    page.evaluate(COUNT_REFRESHES)
    Agent.objects.filter(id=other).update(roster_version=F("roster_version") + 1)
    page.wait_for_function("() => window.swaps > 0", timeout=LIVE_MS)
    expect(focused).to_be_focused()
    assert focused.evaluate("el => el.dataset.mark") is None  # a new node: the columns swapped
