"""A real browser (Debian's Chromium, driven by Playwright) against a live server, with the real
worker, Redis broker and ICWS simulator of tests/integration behind it.

Screenshots go to tests/artifacts/screenshots/ (git-ignored), one per test at its end.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from tests.integration.conftest import (  # noqa: F401 - fixtures shared with the integration tests
    directory,
    engine_settings,
    redis_broker,
    simulator,
    worker,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
PASSWORD = "pw-for-browser-tests"
# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body
# (fixtures, assertions) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# expect() waits up to 5 s by default, less than a loaded machine needs: a 1,000-agent move
# preview took over 5 s on SQLite at load average 19. As long as page actions get (15 s); the
# checks of a time the product promises ("within 2 s") pass their own timeout.
EXPECT_TIMEOUT_MS = 15_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            # A failure must happen twice to fail the run. Stops 26 to 28 each lost a CI run to
            # one browser test failing once in dozens of runs (two were real board races, since
            # fixed and tested); a second failure in a row is a defect, and every rerun is in the
            # summary with its first failure's report, "page at failure" included.
            item.add_marker(pytest.mark.flaky(reruns=1))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # The machine's network is closed: no background fetches, no QUIC, no sync.
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


# What the page showed when a test failed, in its report: a failure in CI leaves only the report
# (the screenshot stays on the CI machine), and "waited 15 s for the confirm button" alone does
# not say whether the dialog never opened, opened with an error, or the board was mid-refresh.
PAGE_AT_FAILURE = """() => {
    const text = (selector) => {
        const el = document.querySelector(selector);
        return el ? el.innerText.replace(/\\s+/g, " ").trim().slice(0, 600) : "(none)";
    };
    const dialog = document.getElementById("move-dialog");
    return [
        "url: " + location.href,
        "board ready: " + ("boardReady" in document.body.dataset),
        "dialog: " + (!dialog ? "(none)" : dialog.open ? "open: " + text("#move-dialog") : "shut"),
        "selection: " + text("[data-selection-count]"),
        "jobs: " + text("#jobs-live"),
        "top bar: " + text("header"),
    ].join("\\n");
}"""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    page = item.funcargs.get("page") if report.when == "call" and report.failed else None
    if page is not None:
        try:
            report.sections.append(("page at failure", page.evaluate(PAGE_AT_FAILURE)))
        except Exception as exc:  # a closed or crashed page: say so, keep the test's own error
            report.sections.append(("page at failure", f"could not be read: {exc}"))
    return report


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1500, "height": 950}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Named by module and test (with its parameters): two files' tests of one name must not
    # overwrite each other's screenshot.
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.removeprefix("tests/browser/"))
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
    assert not errors, f"JavaScript errors or CSP violations on the page: {errors}"


def board_ready(page):
    """Wait until board.js has indexed the cards and wired SortableJS (after the first paint, not
    at the load event ``wait_for_url`` waits for): a drag pressed before then starts no drag."""
    page.locator("body[data-board-ready]").wait_for(state="attached")
    return page


def press(page, locator) -> tuple[float, float]:
    """Press the mouse on the element's middle, once Playwright's hover() has found it visible,
    still for two frames and the one the pointer hits (content-visibility may still be laying
    out what a scroll brought on screen). Where it pressed, for the moves of a drag."""
    locator.hover()
    box = locator.bounding_box()
    page.mouse.down()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def make_user(django_user_model, username: str, role: str | None):
    user = django_user_model.objects.create_user(username, password=PASSWORD)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def login(live_server, page):
    """``login(user)`` signs in through the real login form and lands on the board, ready."""

    def sign_in(user, next_path: str = "/"):
        page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}{next_path}*")
        if next_path.split("?")[0] == "/":
            board_ready(page)
        return page

    return sign_in


@pytest.fixture(autouse=True)
def _no_cached_board_columns():
    """The live server runs in this process: a test must not be served the board columns the
    last test rendered (tests change names in the database directly, which moves no revision)."""
    from dashboard.board import columns_cache

    columns_cache.clear()
    yield
    columns_cache.clear()


def board_poll(url: str) -> bool:
    """A poll of the columns (the board's own URL with its rev), not another panel's poll (the
    approvals panel polls with a rev of its own)."""
    parts = urlsplit(url)
    return parts.path == "/" and "rev" in parse_qs(parts.query, keep_blank_values=True)


def hold_the_next_poll(page) -> list:
    """The board's next poll of the columns, held here (a route, until the test continues it
    and calls ``page.unroute(board_poll)``)."""
    held_back = []
    page.route(board_poll, lambda route: held_back.append(route))
    for _ in range(60):  # the board polls every second
        if held_back:
            return held_back
        page.wait_for_timeout(50)
    raise AssertionError("no poll of the columns came within 3 s")


def polls_sent(page) -> list[str]:
    """The URLs of the polls of the columns sent from now on."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if board_poll(r.url) else None)
    return sent


def whole_board_asked(sent: list[str]) -> list[str]:
    return [url for url in sent if re.search(r"[?&]rev=(&|$)", url)]


# Counts the columns' refreshes swapped in and the polls asked for, from now on.
COUNT_REFRESHES = """() => {
  window.swaps = 0; window.polls = 0;
  document.addEventListener("htmx:afterSettle", event => {
    if (event.detail.target.id === "board-columns") { window.swaps += 1; }
  });
  document.addEventListener("htmx:beforeRequest", event => {
    if (event.detail.elt.id === "board-columns") { window.polls += 1; }
  });
}"""
