"""A new supervisor's findings, checked in Chromium: toasts that keep off the actions, a visible
focus ring, the favicon, the audit page's time zone, "While you were away" shown once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.activity.models import BoardVisit
from dashboard.allocations.models import AllocationJob
from tests.browser.conftest import PASSWORD, SCREENSHOTS, board_ready, make_user
from tests.integration.conftest import pick_move, wait_for

LONG = (
    "Job 9999 accepted by CIC: moved Ana Silva, Bo Li and 40 more from Sales Outbound to Renewals."
)


@pytest.fixture
def sam(transactional_db, django_user_model):
    return make_user(django_user_model, "sam", "supervisor")


def accepted_jobs(user, directory, n: int):
    (agent,), source, target = pick_move(directory)
    return [
        AllocationJob.objects.create(
            requested_by=user,
            agent_ids=[agent],
            campaign_ids_in=[target],
            campaign_ids_out=[source],
            status=AllocationJob.Status.SUCCEEDED,
            finished_at=timezone.now(),
        )
        for _ in range(n)
    ]


# What a toast must not cover: the board's and the jobs panel's controls.
ACTIONS = (
    ".jobs-panel a[href], .jobs-panel button, .move-bar button, .move-bar select,"
    " [data-job-revert], [data-job-retry], .filters input, .filters select, .filters button"
)
OVERLAPS = """([toastSel, actionSel]) => {
  const boxes = [...document.querySelectorAll(toastSel)].map(t => t.getBoundingClientRect());
  const hits = [];
  for (const el of document.querySelectorAll(actionSel)) {
    // The part of it on screen: clipped by every scrolling ancestor (the panel scrolls).
    const b0 = el.getBoundingClientRect();
    const r = {left: b0.left, right: b0.right, top: b0.top, bottom: b0.bottom};
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (getComputedStyle(p).overflowY === "visible") continue;
      const c = p.getBoundingClientRect();
      r.left = Math.max(r.left, c.left); r.right = Math.min(r.right, c.right);
      r.top = Math.max(r.top, c.top); r.bottom = Math.min(r.bottom, c.bottom);
    }
    if (r.right <= r.left || r.bottom <= r.top || r.bottom <= 0 || r.top >= innerHeight) continue;
    for (const b of boxes) {
      if (r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom) {
        hits.push(el.outerHTML.slice(0, 80));
      }
    }
  }
  return hits;
}"""


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080), (800, 900)])
def test_toasts_keep_off_the_jobs_panel_and_can_be_dismissed(login, page, directory, sam, size):
    accepted_jobs(sam, directory, 8)  # a panel full of Revert buttons, down to its bottom
    page.set_viewport_size({"width": size[0], "height": size[1]})
    login(sam)
    expect(page.locator("[data-job-revert]").first).to_be_visible()
    for i in range(3):
        page.evaluate(f"window.dashboard.announce({LONG!r} + ' {i}', 'success')")
    toasts = page.locator("#toasts .toast")
    expect(toasts).to_have_count(1)  # one at a time: the newest
    expect(toasts).to_contain_text("Renewals. 2")
    assert page.evaluate(OVERLAPS, ["#toasts .toast", ACTIONS]) == []
    # Scrolled to the bottom of the panel, the same.
    page.locator(".jobs-panel").evaluate("p => p.scrollTop = p.scrollHeight")
    assert page.evaluate(OVERLAPS, ["#toasts .toast", ACTIONS]) == []
    page.screenshot(path=str(SCREENSHOTS / f"polish-toast-{size[0]}.png"))
    toasts.locator("[data-toast-close]").click()
    expect(toasts).to_have_count(0)
    page.evaluate("window.dashboard.announce('Job failed', 'error')")
    expect(toasts).to_have_count(1)
    page.wait_for_timeout(300)
    page.keyboard.press("Escape")
    expect(toasts).to_have_count(0)


def test_the_favicon_loads_without_a_404(page, live_server, transactional_db):
    failures = []
    page.on("response", lambda r: failures.append(r.url) if r.status >= 400 else None)
    page.goto(f"{live_server.url}/accounts/login/")
    icon = page.request.get(f"{live_server.url}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"
    href = page.locator("link[rel=icon]").first.get_attribute("href")
    assert page.request.get(f"{live_server.url}{href}").status == 200
    page.wait_for_timeout(500)  # the browser's own icon request
    assert failures == []


def _luminance(rgb):
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


RING = """el => {
  const s = getComputedStyle(el);
  const rgb = c => c.match(/[0-9.]+/g).slice(0, 4).map(Number);
  let p = el.parentElement, bg = null;
  while (p) {  // what the ring sits on (outline-offset puts it outside the element)
    const c = rgb(getComputedStyle(p).backgroundColor);
    if (c.length < 4 || c[3] > 0) { bg = c.slice(0, 3); break; }
    p = p.parentElement;
  }
  return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),
          color: rgb(s.outlineColor).slice(0, 3), bg: bg || [255, 255, 255]};
}"""


def test_the_focus_ring_is_visible_with_at_least_3_to_1_contrast(login, page, directory, sam):
    accepted_jobs(sam, directory, 1)
    login(sam)
    checked = 0
    for selector in ("a.brand", "[data-job-revert]", "input[name=q]", ".jobs-panel a[href]"):
        element = page.locator(selector).first
        element.focus()
        page.keyboard.press("Shift+Tab")  # keyboard focus, so :focus-visible applies
        page.keyboard.press("Tab")
        assert element.evaluate("el => el === document.activeElement"), selector
        ring = element.evaluate(RING)
        assert ring["style"] == "solid" and ring["width"] >= 2, (selector, ring)
        ratio = contrast(ring["color"], ring["bg"])
        assert ratio >= 3, (selector, ring, ratio)
        checked += 1
    assert checked == 4
    page.locator("[data-job-revert]").first.focus()
    page.screenshot(path=str(SCREENSHOTS / "polish-focus-ring.png"))


def sign_in_again(page, live_server, user):
    page.context.clear_cookies()  # the session ends (expiry, or a sign-out elsewhere)
    page.goto(f"{live_server.url}/accounts/login/?next=/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    board_ready(page)


def test_while_you_were_away_is_shown_once_per_set_of_unseen_jobs(
    login, page, directory, sam, live_server
):
    login(sam)
    wait_for(
        lambda: BoardVisit.objects.filter(user=sam).exists(),
        timeout=15,
        what="the open board to note a visit",
    )
    BoardVisit.objects.filter(user=sam).update(seen_at=timezone.now() - timedelta(minutes=5))
    (job,) = accepted_jobs(sam, directory, 1)
    sign_in_again(page, live_server, sam)
    away = page.locator("[data-jobs-away]")
    expect(away).to_contain_text(f"Job {job.pk} accepted by CIC")
    page.locator(".jobs-panel").screenshot(path=str(SCREENSHOTS / "polish-away.png"))
    page.wait_for_timeout(2500)  # polls of the open board
    expect(away).to_have_count(1)
    away.get_by_role("button", name="Dismiss").click()
    expect(away).to_have_count(0)
    page.reload()
    board_ready(page)
    page.wait_for_timeout(1500)
    expect(away).to_have_count(0)
    page.goto(f"{live_server.url}/jobs/")
    page.goto(f"{live_server.url}/")
    board_ready(page)
    page.wait_for_timeout(1500)
    expect(away).to_have_count(0)
    # Signing in again at once, before any poll could note the visit: nothing new, nothing shown.
    sign_in_again(page, live_server, sam)
    page.wait_for_timeout(1500)
    expect(away).to_have_count(0)
    # The job's page says where the agent came from and where to, in the same words.
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    expect(page.locator("[data-job-status]")).to_have_text("Accepted by CIC")
    expect(page.locator("[data-job-out]")).not_to_have_text("—")
    page.screenshot(path=str(SCREENSHOTS / "polish-job-page.png"))


def test_audit_time_fields_say_which_time_zone(browser, live_server, directory, django_user_model):
    audrey = make_user(django_user_model, "audrey", "auditor")
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, timezone_id="Asia/Tokyo", locale="en-GB"
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/audit/")
    page.fill("input[name=username]", audrey.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/audit/")
    page.screenshot(path=str(SCREENSHOTS / "polish-audit-tokyo.png"))
    page.select_option("select[name=preset]", "today")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SCREENSHOTS / "polish-audit-tokyo-today.png"))
    context.close()


def test_a_name_or_status_cut_short_shows_in_full_under_the_pointer(login, page, directory, sam):
    (agent,), source, _ = pick_move(directory)
    login(sam)
    the_card = page.locator(f'[data-cards][data-campaign-id="{source}"] [data-agent-id="{agent}"]')
    status = the_card.locator("small")
    long = "Away from the desk for the afternoon training on the new campaign scripts"
    status.evaluate("(el, text) => { el.textContent = text; }", long)
    assert status.evaluate("el => el.scrollWidth > el.clientWidth"), "the status is not cut short"
    status.hover()
    expect(status).to_have_attribute("title", long)
    name = the_card.locator("label a")
    name.hover()
    if name.evaluate("el => el.scrollWidth <= el.clientWidth"):  # a name that fits: no title
        expect(name).not_to_have_attribute("title", re.compile(".+"))
    status.evaluate("el => { el.textContent = 'Busy'; }")  # fits now: the title goes
    status.hover()
    expect(status).not_to_have_attribute("title", re.compile(".+"))
