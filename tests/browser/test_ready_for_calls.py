"""A supervisor moves an agent; the agent, signed in with CIC on /me/ in a second browser,
sees it within 2 s, presses Ready for calls, CIC (the simulator) gets the call with that
campaign id, and the supervisor's card stops waiting."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.directory.models import Campaign
from icws_client.simulator.seed import AGENT_PASSWORD
from tests.browser.conftest import make_user
from tests.browser.test_board import card, expect_job_status, submitted_job
from tests.integration.conftest import pick_move


@pytest.fixture
def ana(transactional_db, django_user_model):
    user = make_user(django_user_model, "ana", "supervisor")
    user.first_name, user.last_name = "Ana", "Silva"
    user.save()
    return user


@pytest.fixture
def agent_page(browser, live_server):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def test_a_moved_agent_is_told_sends_ready_for_calls_and_the_card_stops_waiting(
    login, page, agent_page, live_server, directory, worker, ana, simulator, settings
):
    settings.DASHBOARD_AUTH = "both"
    (agent,), source, target = pick_move(directory)
    target_name = Campaign.objects.get(id=target).name

    # The agent signs in with their CIC password in a browser of their own.
    agent_page.goto(f"{live_server.url}/accounts/login/")
    agent_page.fill("input[name=username]", agent)
    agent_page.fill("input[name=password]", AGENT_PASSWORD)
    agent_page.click("button[type=submit]")
    agent_page.wait_for_url(f"{live_server.url}/me/")
    expect(agent_page.locator("[data-notice]")).to_have_count(0)

    login(ana)  # the move by keyboard: pick the card, choose the campaign, confirm
    card(page, source, agent).locator("input[name=pick]").check()
    page.locator("[data-move-target]").select_option(target)
    page.locator("[data-move-open]").click()
    expect(page.locator("#move-dialog")).to_be_visible()
    page.fill("[data-move-reason]", "Renewals needs people")
    page.keyboard.press("Enter")
    job = submitted_job(page)
    expect_job_status(page, job.pk, "succeeded")

    notice = agent_page.locator("[data-notice]")
    expect(notice).to_contain_text(f"Ana Silva added you to {target_name} at", timeout=2_000)
    waiting = card(page, target, agent).locator("[data-waiting-ready]")
    expect(waiting).to_have_text("waiting for ready-for-calls")

    simulator.dialer_login(agent)  # their CIC client logged in to Dialer
    agent_page.get_by_role("button", name="Ready for calls").click()
    expect(agent_page.locator("[data-answer]")).to_contain_text("Sent")
    calls = simulator.ready_for_calls_log()
    assert [(c["userId"], c["campaignIds"], c["status"]) for c in calls] == [(agent, [target], 200)]
    expect(notice).to_contain_text("Ready for calls sent at")
    expect(waiting).to_have_count(0)
