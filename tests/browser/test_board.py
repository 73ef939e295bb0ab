"""The board in headless Chromium: drag, multi-select, keyboard, failure, retry, roles, escaping."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import Agent, Campaign
from dashboard.directory.selectors import roster_of
from tests.browser.conftest import board_ready, make_user, press
from tests.integration.conftest import pick_move, sim_moves

Status = AllocationJob.Status


@pytest.fixture
def supervisor_user(transactional_db, django_user_model):
    return make_user(django_user_model, "sam", "supervisor")


def card(page, column: str, agent: str):
    return page.locator(f'[data-cards][data-campaign-id="{column}"] [data-agent-id="{agent}"]')


def column(page, campaign: str):
    return page.locator(f'[data-cards][data-campaign-id="{campaign}"]')


def drag(page, source, target, below: float | None = 30):
    """Press on the card, move the pointer in steps onto the column's first card, release.

    Real pointer input, as a person drags: Chromium starts a native drag that SortableJS
    handles. (``Locator.drag_to`` intercepts the drag itself and SortableJS never sees it start.)
    """
    # SortableJS is wired up just after the first paint, not at the load event: a press before
    # that starts no drag at all (a reload or a page signed in by hand has not waited yet).
    board_ready(page)
    start = press(page, source)
    # Onto its first card by default; below=None: onto the middle (a column's head).
    glide(page, start, middle(target, below), steps=12)
    page.mouse.up()


def glide(page, start, *stops, steps: int = 8):
    """Move the (pressed) pointer from ``start`` through each stop in ``steps`` moves: a point,
    or a function measuring it on arrival (a card put in a list on the way moves the columns
    below it). Where it ended."""
    x, y = start
    for stop in stops:
        x1, y1 = stop() if callable(stop) else stop
        for step in range(1, steps + 1):
            page.mouse.move(x + (x1 - x) * step / steps, y + (y1 - y) * step / steps)
        x, y = x1, y1
    return x, y


def middle(locator, dy: float | None = None):
    """The middle of the element, or ``dy`` below its top."""
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + (box["height"] / 2 if dy is None else dy)


def submitted_job(page, count: int = 1) -> AllocationJob:
    """The job the page just submitted, once its status element is on the page."""
    jobs = page.locator("#jobs-live [data-job-id]")
    expect(jobs).to_have_count(count)
    return AllocationJob.objects.get(pk=int(jobs.first.get_attribute("data-job-id")))


def expect_job_status(page, job_id: int, status: str, timeout: float = 20_000):
    expect(page.locator(f"#job-{job_id} [data-job-status]")).to_have_attribute(
        "data-job-status", status, timeout=timeout
    )


def test_drag_one_agent_to_another_campaign(
    login, page, directory, worker, supervisor_user, simulator
):
    (agent,), source, target = pick_move(directory)
    login(supervisor_user)
    drag(page, card(page, source, agent), column(page, target))
    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Move ")
    page.fill("[data-move-reason]", "Renewals ran dry")
    page.keyboard.press("Enter")  # Enter confirms
    expect(dialog).to_be_hidden()
    job = submitted_job(page)
    expect_job_status(page, job.pk, "succeeded")
    expect(card(page, target, agent)).to_be_visible()
    expect(card(page, source, agent)).to_have_count(0)
    expect(page.locator("#announcer")).to_contain_text(f"Job {job.pk} accepted by CIC")
    job.refresh_from_db()
    assert job.reason == "Renewals ran dry"
    assert target in roster_of([agent])[agent]
    assert [m["agentIds"] for m in sim_moves(simulator)] == [[agent]]


# SortableJS says a drag has begun (its onStart) a task after the browser's dragstart, in a
# zero-delay timer, and Chromium runs input before timers when the page is busy: a quick drag on
# a loaded machine can be dropped before that task runs, and SortableJS then reports no drop at
# all. This holds every zero-delay timer back during the drag, as a busy main thread does.
HOLD_ZERO_DELAY_TIMERS = """() => {
    const setTimeout = window.setTimeout;
    window.__holdTimers = true;
    window.setTimeout = function (fn, ms, ...rest) {
        const held = window.__holdTimers && !ms ? 10000 : 0;
        return setTimeout.call(window, fn, (ms || 0) + held, ...rest);
    };
}"""


@pytest.mark.parametrize("onto", ["list", "head"])
def test_a_drop_before_sortablejs_has_begun_the_drag_still_moves(
    login, page, directory, worker, supervisor_user, simulator, onto
):
    (agent,), source, target = pick_move(directory)
    login(supervisor_user)
    page.evaluate(HOLD_ZERO_DELAY_TIMERS)
    aim = (
        column(page, target)
        if onto == "list"
        else page.locator(f'details[data-campaign-id="{target}"] > summary')
    )
    began = time.monotonic()
    drag(page, card(page, source, agent), aim, below=30 if onto == "list" else None)
    page.evaluate("() => { window.__holdTimers = false; }")
    # Dropped while SortableJS's start was still held back: else this tried the usual path.
    assert time.monotonic() - began < 8, "the drag took longer than the timers were held"
    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Move ")
    page.click("[data-move-confirm-button]")
    job = submitted_job(page)
    expect_job_status(page, job.pk, "succeeded")
    assert job.campaign_ids_in == [target] and job.campaign_ids_out == [source]
    expect(card(page, target, agent)).to_be_visible()


def test_a_drag_let_go_outside_the_columns_moves_nothing(
    login, page, directory, worker, supervisor_user, simulator
):
    """Over another campaign's list on the way, then let go over the jobs panel: no move is
    offered (the card had been put in that list, and its column was once taken as the target)."""
    (agent,), source, target = pick_move(directory)
    login(supervisor_user)
    board_ready(page)
    previews = []
    page.on("request", lambda r: previews.append(r.url) if "/moves/preview" in r.url else None)
    over = glide(page, press(page, card(page, source, agent)), middle(column(page, target), 30))
    expect(page.locator(f'[data-cards][data-campaign-id="{target}"] .dragging')).to_have_count(1)
    glide(page, over, middle(page.locator(".jobs-panel")))
    page.mouse.up()
    expect(card(page, source, agent)).to_be_visible()  # put back where it was
    page.wait_for_timeout(1000)  # a preview would have been asked for by now
    assert previews == []
    expect(page.locator("#move-dialog")).to_be_hidden()


def test_a_drag_onto_unassigned_takes_the_agent_out_of_the_campaign(
    login, page, directory, worker, supervisor_user, simulator
):
    (agent,), source, _ = pick_move(directory)
    login(supervisor_user)
    drag(page, card(page, source, agent), column(page, ""))
    expect(page.locator("#move-dialog")).to_contain_text("Move ")
    page.click("[data-move-confirm-button]")
    job = submitted_job(page)
    expect_job_status(page, job.pk, "succeeded")
    assert job.campaign_ids_in == [] and job.campaign_ids_out == [source]
    expect(card(page, "", agent)).to_be_visible()


def test_a_drop_on_a_head_moves_there_whatever_list_the_drag_crossed(
    login, page, directory, supervisor_user
):
    """Across the Unassigned list (SortableJS puts the card in it), then let go on the target's
    head: the move is to the head's campaign, and its column is outlined while the card is over it
    (the list crossed was taken for the target)."""
    (agent,), source, target = pick_move(directory)
    login(supervisor_user)
    head = page.locator(f'details[data-campaign-id="{target}"] > summary')
    board_ready(page)
    start = press(page, card(page, source, agent))
    x, y = glide(
        page, start, middle(column(page, ""), 30), lambda: middle(head), lambda: middle(head)
    )
    for wiggle in range(6):  # held over the head a moment, as a hand does
        page.wait_for_timeout(100)
        page.mouse.move(x + wiggle % 2, y)
    expect(page.locator(f'details[data-campaign-id="{target}"]')).to_have_class(
        re.compile(r"\bcolumn-dropover\b")
    )
    page.mouse.up()
    name = Campaign.objects.get(id=target).name
    expect(page.locator("#move-dialog")).to_contain_text(f"to {name}")
    expect(page.locator(".column-dropover")).to_have_count(0)


def test_a_touch_drag_moves_too(
    browser, live_server, directory, worker, supervisor_user, simulator
):
    """On a touch screen SortableJS drags by itself (no native drag: no dragover, no drop
    event): the move goes to the column under the finger where it let go."""
    from tests.browser.conftest import PASSWORD

    (agent,), source, target = pick_move(directory)
    context = browser.new_context(viewport={"width": 1500, "height": 950}, has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/accounts/login/?next=/")
        page.fill("input[name=username]", supervisor_user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        board_ready(page)
        source_card = card(page, source, agent)
        source_card.scroll_into_view_if_needed()
        x0, y0 = middle(source_card)
        x1, y1 = middle(column(page, target), 30)
        cdp = context.new_cdp_session(page)
        touch = lambda kind, *at: cdp.send(  # noqa: E731
            "Input.dispatchTouchEvent",
            {"type": kind, "touchPoints": [{"x": x, "y": y} for x, y in at]},
        )
        touch("touchStart", (x0, y0))
        for step in range(1, 21):
            touch("touchMove", (x0 + (x1 - x0) * step / 20, y0 + (y1 - y0) * step / 20))
            page.wait_for_timeout(20)
        touch("touchEnd")
        name = Campaign.objects.get(id=target).name
        expect(page.locator("#move-dialog")).to_contain_text(f"to {name}")
        page.click("[data-move-confirm-button]")
        job = submitted_job(page)
        assert job.campaign_ids_in == [target] and job.campaign_ids_out == [source]
    finally:
        context.close()


def test_drag_a_multi_selection(login, page, directory, worker, supervisor_user, simulator):
    agents, source, target = pick_move(directory, count=3)
    login(supervisor_user)
    card(page, source, agents[0]).click()
    card(page, source, agents[1]).click(modifiers=["Control"])
    card(page, source, agents[2]).click(modifiers=["Control"])
    expect(page.locator("[data-selection-count]")).to_have_text("3 selected")
    drag(page, card(page, source, agents[0]), column(page, target))
    expect(page.locator("#move-dialog")).to_contain_text("Move 3 agents")
    page.click("[data-move-confirm-button]")
    job = submitted_job(page)
    expect_job_status(page, job.pk, "succeeded")
    for agent in agents:
        expect(card(page, target, agent)).to_be_visible()
    assert sorted(job.agent_ids) == sorted(agents)
    assert job.campaign_ids_out == [source]


def test_keyboard_only_move(login, page, directory, worker, supervisor_user, simulator):
    (agent,), source, target = pick_move(directory)
    login(supervisor_user)
    box = card(page, source, agent).locator("input[name=pick]")
    box.focus()
    page.keyboard.press("Space")
    expect(page.locator("[data-selection-count]")).to_have_text("1 selected")
    page.locator("[data-move-target]").focus()
    page.locator("[data-move-target]").select_option(target)
    page.locator("[data-move-open]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#move-dialog")).to_be_visible()
    expect(page.locator("[data-move-reason]")).to_be_focused()
    page.keyboard.press("Enter")
    job = submitted_job(page)
    expect_job_status(page, job.pk, "succeeded")
    expect(card(page, target, agent)).to_be_visible()


def test_a_failing_move_shows_the_icws_message_the_cards_return_and_retry_succeeds(
    login, page, directory, worker, supervisor_user, simulator
):
    (agent,), source, target = pick_move(directory)
    # The errorId is not on record from a real server (REFERENCE.md section 10), so the strict
    # simulator's licence fault sends none: this test injects the richer answer explicitly.
    simulator.set_faults(
        status=403,
        error_id="error.request.dialer.noLicense",
        message="Neither the agent nor its station has a Dialer Add-on license.",
        paths=["dialer/allocate-agents"],
    )
    login(supervisor_user)
    drag(page, card(page, source, agent), column(page, target))
    page.click("[data-move-confirm-button]")
    job = submitted_job(page)
    expect_job_status(page, job.pk, "failed")
    error = page.locator(f"#job-{job.pk} [data-job-error]")
    expect(error).to_contain_text("No Dialer Add-on licence is available")
    expect(page.locator(f"#job-{job.pk} [data-job-error-detail]")).to_contain_text(
        "error.request.dialer.noLicense"
    )
    expect(card(page, source, agent)).to_be_visible()  # back where the roster says
    expect(card(page, target, agent)).to_have_count(0)
    expect(page.locator("#announcer")).to_contain_text("failed")

    simulator.clear_faults()
    page.click(f"#job-{job.pk} [data-job-retry]")
    expect(page.locator(f"#job-{job.pk}")).to_have_count(0)  # the retry's status replaces it
    retry = submitted_job(page)
    assert retry.pk != job.pk
    expect_job_status(page, retry.pk, "succeeded")
    expect(card(page, target, agent)).to_be_visible()


def test_a_viewer_without_the_supervisor_role_cannot_move(
    login, page, directory, worker, django_user_model, simulator
):
    (agent,), source, target = pick_move(directory)
    auditor = make_user(django_user_model, "aud", "auditor")
    login(auditor)
    expect(page.locator("[data-move-open]")).to_have_count(0)
    expect(card(page, source, agent).locator("input[name=pick]")).to_be_disabled()
    drag(page, card(page, source, agent), column(page, target))
    expect(page.locator("#move-dialog")).to_be_hidden()
    # And the server refuses even a hand-made request.
    status = page.evaluate(
        """async () => {
            const r = await fetch('/moves/', {method: 'POST', headers: {'X-CSRFToken':
              JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']},
              body: new URLSearchParams({agent_ids: 'x', campaign_ids_in: 'y'})});
            return r.status; }"""
    )
    assert status == 403
    assert not AllocationJob.objects.exists()


def test_an_agent_name_with_script_renders_as_text(
    login, page, directory, worker, supervisor_user, simulator
):
    (agent,), source, _target = pick_move(directory)
    Agent.objects.filter(id=agent).update(name="<script>window.__pwned = 1</script>Eve")
    login(supervisor_user)
    name = card(page, source, agent).locator("label a")
    expect(name).to_have_text("<script>window.__pwned = 1</script>Eve")
    assert page.evaluate("window.__pwned") is None


def test_the_board_stays_current_and_keeps_the_selection(
    login, page, directory, worker, supervisor_user, django_user_model, simulator
):
    from dashboard.allocations.submit import job_submit
    from tests.integration.conftest import wait_terminal

    agents, source, target = pick_move(directory, count=2)
    login(supervisor_user)
    card(page, source, agents[0]).click()
    expect(card(page, source, agents[0])).to_have_class(re.compile(r"\bselected\b"))

    # Someone else moves the other agent meanwhile.
    colleague = make_user(django_user_model, "colleague", "supervisor")
    job, _ = job_submit(
        actor=colleague, agent_ids=[agents[1]], campaign_ids_in=[target], campaign_ids_out=[source]
    )
    wait_terminal(job)
    page.evaluate("window.htmx.trigger(document.body, 'boardRefresh')")
    expect(card(page, target, agents[1])).to_be_visible()
    expect(card(page, source, agents[1])).to_have_count(0)
    expect(card(page, source, agents[0])).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("[data-selection-count]")).to_have_text("1 selected")


def test_filters_apply_without_a_reload(login, page, directory, worker, supervisor_user):
    (agent,), source, _target = pick_move(directory)
    name = Agent.objects.get(id=agent).name
    login(supervisor_user)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.fill("[data-filter=q]", name)
    assert Agent.objects.filter(name__icontains=name).count() == 1
    expect(page.locator("#board-columns [data-agent-id]:visible")).to_have_count(
        1 + _extra_memberships(agent)
    )
    expect(card(page, source, agent)).to_be_visible()
    page.fill("[data-filter=q]", "no agent is called this")
    expect(page.locator("#board-columns [data-agent-id]:visible")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True
    # The URL follows the filters, so a reload shows the same filtered board.
    expect(page).to_have_url(re.compile(r"\?q=no\+agent\+is\+called\+this$"))
    page.reload()
    expect(page.locator("[data-filter=q]")).to_have_value("no agent is called this")
    expect(page.locator("#board-columns [data-agent-id]:visible")).to_have_count(0)


def _extra_memberships(agent_id: str) -> int:
    """An agent in n campaigns has n cards (one per column)."""
    return max(0, len(roster_of([agent_id])[agent_id]) - 1)


def test_select_all_shown_leaves_out_columns_a_filter_hides(
    login, page, directory, worker, supervisor_user
):
    # ICWS gives no campaign state; an admin records it (here: as /sim/state has it).
    for c in directory["campaigns"]:
        Campaign.objects.filter(id=c["id"]).update(state=c["state"], state_source="admin")
    login(supervisor_user)
    # A campaign state whose filter hides at least one open column that holds cards.
    state = page.evaluate(
        """() => {
          const sel = '#board-columns details[data-campaign-id]';
          const columns = [...document.querySelectorAll(sel)];
          const states = [...new Set(columns.map(c => c.dataset.state).filter(Boolean))];
          return states.find(s => columns.some(c => c.dataset.campaignId
            && c.dataset.state !== s && c.open && c.querySelector('[data-agent-id]')));
        }"""
    )
    assert state, "the demo directory has campaigns in more than one state"
    page.select_option("[data-filter=state]", state)
    page.click("[data-select-all]")
    selected = page.locator("#board-columns [data-agent-id].selected")
    on_screen = page.locator("#board-columns [data-agent-id].selected:visible")
    expect(selected).to_have_count(on_screen.count())
    count = on_screen.count()
    label = "No agents selected" if count == 0 else f"{count} selected"
    expect(page.locator("[data-selection-count]")).to_have_text(label)
    # Filtering after selecting keeps the selection, and says how much of it is out of sight.
    page.select_option("[data-filter=state]", "")
    page.click("[data-select-all]")
    everything = page.locator("#board-columns [data-agent-id].selected").count()
    assert everything > count
    page.select_option("[data-filter=state]", state)
    expect(page.locator("[data-selection-count]")).to_have_text(
        f"{everything} selected ({everything - count} not shown)"
    )


def _as_on_a_shift(directory) -> None:
    """Campaign states as an admin records them (ICWS gives none), a staffing target, a long
    name, and presence heard minutes ago, so the board looks as it does during a shift."""
    for c in directory["campaigns"]:
        Campaign.objects.filter(id=c["id"]).update(state=c["state"], state_source="admin")
    first = directory["campaigns"][0]["id"]
    Campaign.objects.filter(id=first).update(
        name="Renewals and Winback for the Evening Shift, Northern Region", staffing_target=12
    )
    now = timezone.now()
    for i, agent in enumerate(Agent.objects.order_by("id")):
        Agent.objects.filter(pk=agent.pk).update(
            status_changed=now - timedelta(seconds=(i * 97) % 5000), presence_updated_at=now
        )


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080), (800, 900)], ids=str)
def test_screenshots_of_the_dense_board(login, page, directory, supervisor_user, size):
    from tests.browser.conftest import SCREENSHOTS

    _as_on_a_shift(directory)
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    login(supervisor_user)
    first = page.locator(".column-name").nth(1)  # after Unassigned
    expect(first).to_be_visible()
    page.locator("[data-agent-id][data-t]").first.wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS.parent / f"board_{width}x{height}.png"))
    # Full campaign names: none is cut (wider than its box) at any of these widths.
    cut = page.evaluate(
        "() => [...document.querySelectorAll('.column-name')]"
        ".filter(n => n.scrollWidth > n.clientWidth + 1).map(n => n.textContent)"
    )
    assert cut == []
    # One line per card: a card is no taller than about one line of its text.
    heights = page.evaluate(
        "() => [...document.querySelectorAll('#board-columns [data-agent-id]')]"
        ".filter(c => c.offsetParent).slice(0, 50).map(c => c.getBoundingClientRect().height)"
    )
    assert heights and max(heights) < 26, heights
    if width <= 800:  # the jobs panel is on screen without scrolling past the columns
        assert page.locator(".jobs-panel").bounding_box()["y"] < height
        # ...and scrolls away with the page: once a column's cards are scrolled to, no panel
        # covers them (a sticky panel once did, and its cards could not be clicked).
        page.locator("#board-columns").scroll_into_view_if_needed()
        page.mouse.wheel(0, 400)
        covered = page.evaluate(
            "() => [...document.querySelectorAll('#board-columns [data-agent-id]')].filter(c => {"
            " const r = c.getBoundingClientRect();"
            " if (r.height === 0 || r.top < 0 || r.bottom > innerHeight) return false;"
            " const hit = document.elementFromPoint(r.left + 8, r.top + r.height / 2);"
            " return hit && !c.contains(hit); }).length"
        )
        assert covered == 0, f"{covered} cards on screen are covered"


@pytest.mark.parametrize("density", ["compact", "comfortable"])
def test_a_card_fits_its_column_at_1366_px(
    login, live_server, page, directory, supervisor_user, density
):
    """Name, status, on-call marker and time in state fit the card: the name and status give way
    (cut with an ellipsis), never the time at the end (comfortable once pushed it out of sight)."""
    from dashboard.board.views.board import DENSITY_COOKIE

    _as_on_a_shift(directory)
    Agent.objects.update(
        name="Maximiliana Oyelaran-Featherstonehaugh", on_phone=True, logged_in=True
    )
    # Cards of a move in flight carry "moving (job n)…" too: the name must still show, and a
    # long time in state ("12h05") too.
    (moving,), source, target = pick_move(directory)
    Agent.objects.filter(id=moving).update(
        status_changed=timezone.now() - timedelta(hours=12, minutes=5)
    )
    AllocationJob.objects.create(
        requested_by=supervisor_user,
        agent_ids=[moving],
        campaign_ids_in=[target],
        campaign_ids_out=[source],
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    page.context.add_cookies([{"name": DENSITY_COOKIE, "value": density, "url": live_server.url}])
    login(supervisor_user)
    expect(page.locator(".board-layout")).to_have_attribute("data-density", density)
    page.locator("[data-agent-id][data-t]").first.wait_for()
    name = card(page, target, moving).locator("label a")
    expect(name).to_contain_text("Maximiliana")
    assert name.bounding_box()["width"] >= 70, "the name of a card in flight is cut to nothing"
    overflowing = page.evaluate(
        "() => [...document.querySelectorAll('#board-columns [data-agent-id]')]"
        ".filter(c => c.offsetParent).slice(0, 40)"
        ".filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.dataset.agentId)"
    )
    assert overflowing == []


def test_the_density_toggle_is_remembered_and_works_from_the_keyboard(
    login, page, directory, supervisor_user
):
    login(supervisor_user)
    layout, toggle = page.locator(".board-layout"), page.locator("[data-density-toggle]")
    expect(layout).to_have_attribute("data-density", "compact")
    toggle.focus()
    page.keyboard.press("Space")
    expect(layout).to_have_attribute("data-density", "comfortable")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(layout).to_have_attribute("data-density", "comfortable")  # rendered so by the server
    page.locator("[data-density-toggle]").focus()
    page.keyboard.press("Enter")
    expect(layout).to_have_attribute("data-density", "compact")


def test_a_drop_on_a_collapsed_column_opens_it_and_moves_there(
    login, page, directory, worker, supervisor_user, simulator
):
    (agent,), source, target = pick_move(directory)
    Campaign.objects.filter(id=target).update(state="off", state_source="admin")
    login(supervisor_user)
    column_el = page.locator(f'details[data-campaign-id="{target}"]')
    expect(column_el).not_to_have_attribute("open", "")  # off: starts collapsed
    head = column_el.locator("summary")
    source_card = card(page, source, agent)
    board_ready(page)  # as drag() does: a press before SortableJS is wired starts no drag
    x0, y0 = press(page, source_card)
    end = head.bounding_box()
    x1, y1 = end["x"] + end["width"] / 2, end["y"] + end["height"] / 2
    for step in range(1, 13):
        page.mouse.move(x0 + (x1 - x0) * step / 12, y0 + (y1 - y0) * step / 12)
    for _ in range(10):  # held over the head: it opens
        page.mouse.move(x1 + 1, y1)
        page.wait_for_timeout(100)
        page.mouse.move(x1, y1)
    page.mouse.up()
    expect(column_el).to_have_attribute("open", "")
    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    name = Campaign.objects.get(id=target).name
    expect(dialog).to_contain_text(name)
    page.click("[data-move-confirm-button]")
    job = submitted_job(page)
    expect_job_status(page, job.pk, "succeeded")
    assert job.campaign_ids_in == [target]
    expect(card(page, target, agent)).to_be_visible()  # rendered, now that it is open


def test_time_in_state_keeps_counting_without_a_re_render(login, page, directory, supervisor_user):
    """The page counts on from the server's clock: 7 minutes later the card says 7 more."""
    from datetime import timedelta

    from django.utils import timezone

    (agent,), source, _ = pick_move(directory)
    Agent.objects.filter(id=agent).update(status_changed=timezone.now() - timedelta(minutes=3))
    page.clock.install()
    login(supervisor_user)
    clock = card(page, source, agent)
    expect(clock).to_have_attribute("data-t", "3m")
    page.clock.fast_forward("07:00")  # no roster or presence change: no re-render either
    expect(clock).to_have_attribute("data-t", "10m")
    # Shown by CSS from the attribute, at the end of the card's line.
    shown = clock.evaluate("c => getComputedStyle(c, '::after').content")
    assert shown == '"10m"', shown
