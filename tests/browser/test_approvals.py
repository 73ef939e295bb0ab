"""Four-eyes approval in Chromium: a large move by one supervisor waits, a second supervisor in
another browser context approves it from the board's panel, and then it runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.allocations.models import AllocationJob
from dashboard.approvals.models import Approval
from dashboard.audit.models import AuditEvent
from tests.browser.conftest import PASSWORD, make_user
from tests.browser.test_board import card, column, drag
from tests.integration.conftest import pick_move, sim_moves, wait_for


@pytest.fixture
def four_eyes(engine_settings):
    engine_settings.APPROVAL_REQUIRED_FOR = frozenset({"large"})
    engine_settings.APPROVAL_THRESHOLD_AGENTS = 2
    return engine_settings


def test_a_large_move_waits_and_runs_once_a_second_supervisor_approves(
    login, page, browser, live_server, directory, worker, four_eyes, simulator, django_user_model
):
    sam = make_user(django_user_model, "sam", "supervisor")
    rita = make_user(django_user_model, "rita", "supervisor")
    agents, source, target = pick_move(directory, count=3)
    login(sam)
    card(page, source, agents[0]).click()
    card(page, source, agents[1]).click(modifiers=["Control"])
    card(page, source, agents[2]).click(modifiers=["Control"])
    drag(page, card(page, source, agents[0]), column(page, target))
    expect(page.locator("#move-dialog")).to_contain_text("Move 3 agents")
    page.click("[data-move-confirm-button]")
    expect(page.locator("#move-dialog")).to_contain_text(
        "Waiting for approval by a second supervisor: approval"
    )
    approval = Approval.objects.get()
    expect(page.locator(f"[data-approval-pending='{approval.pk}']")).to_be_visible()
    assert AllocationJob.objects.count() == 0
    # The jobs panel lists it at once (the dialog's answer refreshes it), not at the next poll.
    expect(page.locator(f"[data-approval-mine][data-approval-id='{approval.pk}']")).to_be_visible(
        timeout=2_000
    )
    page.goto(live_server.url + "/")
    expect(page.locator(f"[data-approval-mine][data-approval-id='{approval.pk}']")).to_be_visible()
    expect(page.locator("[data-approval-for-me]")).to_have_count(0)

    other = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        second = other.new_page()
        second.set_default_timeout(15_000)
        second.goto(f"{live_server.url}/accounts/login/?next=/")
        second.fill("input[name=username]", "rita")
        second.fill("input[name=password]", PASSWORD)
        second.click("button[type=submit]")
        second.wait_for_url(f"{live_server.url}/")
        entry = second.locator(f"[data-approval-for-me][data-approval-id='{approval.pk}']")
        expect(entry).to_contain_text("by sam")
        entry.locator("[data-approval-review]").click()
        expect(second.locator("h1")).to_contain_text(f"Approval {approval.pk}")
        expect(second.locator(f"[data-headcount-campaign='{target}']")).to_be_visible()
        second.fill("[data-approval-reason]", "Checked the renewal numbers")
        second.click("[data-approval-approve]")
        expect(second.locator("[data-approval-status]")).to_have_attribute(
            "data-approval-status", "approved"
        )
        second.locator("[data-approval-job]").click()
        expect(second.locator("[data-job-status]").first).to_have_attribute(
            "data-job-status", "succeeded", timeout=20_000
        )
    finally:
        other.close()

    job = AllocationJob.objects.get()
    assert job.requested_by.username == "sam" and sorted(job.agent_ids) == sorted(agents)
    wait_for(lambda: len(sim_moves(simulator)) == 1, what="the move at the simulator")
    requested = AuditEvent.objects.get(kind=AuditEvent.Kind.REQUESTED, job=job)
    assert requested.actor_username == "sam" and requested.details["approved_by"] == "rita"
    granted = AuditEvent.objects.get(kind=AuditEvent.Kind.APPROVAL_GRANTED)
    assert granted.actor_username == "rita" and granted.job_id == job.pk
    # The requester's board shows the agents moved (the board's own poll).
    for agent in agents:
        expect(card(page, target, agent)).to_be_visible(timeout=10_000)
    assert rita.pk != sam.pk
