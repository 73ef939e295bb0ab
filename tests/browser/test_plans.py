"""A shift plan made from a board selection, in a real browser against the live server."""

from __future__ import annotations

from playwright.sync_api import expect

from dashboard.plans.models import Plan
from tests.browser.conftest import make_user
from tests.integration.conftest import pick_move


def test_a_plan_is_created_from_a_board_selection(
    live_server, page, login, directory, django_user_model
):
    agents, source, target = pick_move(directory, count=2)
    user = make_user(django_user_model, "planner", "supervisor")
    login(user)

    for agent in agents:
        card = page.locator(f'[data-cards][data-campaign-id="{source}"] [data-agent-id="{agent}"]')
        card.click(modifiers=["Control"])
    expect(page.locator("[data-selection-count]")).to_have_text("2 selected")
    page.select_option("[data-move-target]", target)
    page.click("[data-move-open]")
    expect(page.locator("#move-dialog")).to_contain_text("Move 2 agents to")
    page.fill("[data-move-reason]", "Evening cover")

    page.click("[data-save-as-plan]")
    page.wait_for_url(f"{live_server.url}/plans/new/from-board")
    expect(page.locator("[data-plan-from-board]")).to_be_visible()
    expect(page.locator("#f-agent_ids")).to_have_value("\n".join(agents))
    expect(page.locator("#f-reason")).to_have_value("Evening cover")  # typed in the dialog
    expect(page.locator("[data-plan-zone-now]")).to_contain_text("The site's zone is UTC")

    # A mistake first: the form says what is wrong, beside the field, and keeps what was typed.
    page.fill("#f-name", "Renewals evening push")
    page.fill("#f-time_zone", "Europe/Berlin")
    page.fill("#f-start", "2030-04-01T17:00")
    page.fill("#f-end_time", "16:00")
    page.check("input[name=repeat][value=weekdays]")
    for day in ("0", "1", "2", "3", "4"):
        page.check(f"input[name=weekdays][value='{day}']")
    page.click("[data-plan-save]")
    expect(page.locator("#e-end_time")).to_contain_text("must be after the start time")
    expect(page.locator("#f-name")).to_have_value("Renewals evening push")

    page.fill("#f-end_time", "19:00")
    page.click("[data-plan-save]")
    expect(page.locator("[data-plan-name]")).to_have_text("Renewals evening push")
    plan = Plan.objects.get()
    assert page.url == f"{live_server.url}/plans/{plan.pk}/"
    assert plan.agent_ids == agents and plan.campaign_ids_in == [target]
    assert plan.campaign_ids_out == [source] and plan.weekdays == [0, 1, 2, 3, 4]

    first = page.locator("[data-plan-next-runs] tbody tr").first
    expect(first).to_contain_text("Mon 2030-04-01 17:00 CEST")
    expect(first).to_contain_text("2 agents")
    before = len([a for a, cs in directory["membership"].items() if target in cs])
    expect(first.locator(f'[data-headcount-campaign="{target}"]')).to_contain_text(
        f"{before} → {before + 2}"
    )
    expect(page.locator("#toasts")).to_contain_text("Plan “Renewals evening push” saved.")
    page.click("nav[aria-label=Main] >> text=Plans")
    expect(page.locator("[data-plan-list]")).to_contain_text("Renewals evening push")
