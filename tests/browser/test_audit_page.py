"""The audit log in headless Chromium: filter without a reload, open an entry, export, revert."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

from playwright.sync_api import expect

from dashboard.allocations.models import AllocationJob
from dashboard.allocations.submit import job_submit
from dashboard.audit.checkpoints import key_id, sign
from dashboard.audit.export import export_message
from dashboard.audit.models import AuditEvent
from dashboard.directory.selectors import roster_of
from tests.browser.conftest import make_user
from tests.integration.conftest import pick_move, wait_terminal

Kind = AuditEvent.Kind


def _moved(directory, django_user_model):
    """A real move through the worker and simulator; returns (job, agent, source, target)."""
    (agent,), source, target = pick_move(directory)
    sam = make_user(django_user_model, "sam", "supervisor")
    job, _ = job_submit(
        actor=sam,
        agent_ids=[agent],
        campaign_ids_in=[target],
        campaign_ids_out=[source],
        reason="Winback ran dry",
    )
    assert wait_terminal(job).status == AllocationJob.Status.SUCCEEDED
    return job, sam, agent, source, target


def test_an_auditor_filters_opens_an_entry_and_exports_it(
    login, page, live_server, directory, worker, simulator, django_user_model
):
    job, _, agent, _, target = _moved(directory, django_user_model)
    other, _ = job_submit(  # a second, unrelated entry the filter must hide
        actor=make_user(django_user_model, "other", "supervisor"),
        agent_ids=[a for a in directory["membership"] if a != agent][:1],
        campaign_ids_in=[target],
    )
    # Its started and succeeded rows come from the worker: all of them before the page renders,
    # or the count below may include rows the rendered table has not.
    wait_terminal(other)
    login(make_user(django_user_model, "audrey", "auditor"), "/audit/")
    rows = page.locator("#audit-table [data-audit-id]")
    expect(rows).to_have_count(AuditEvent.objects.count())
    page.evaluate("window.notReloaded = true")

    page.fill("input[name=agent]", agent)
    from dashboard.audit.selectors import audit_filter_from_params, audit_queryset

    about_agent = audit_queryset(audit_filter_from_params({"agent": agent})[0])
    assert about_agent.filter(job=job).count() == 3  # requested, started, succeeded
    expect(rows).to_have_count(about_agent.count())  # and the seeding roster import
    expect(page).to_have_url(f"{live_server.url}/audit/?agent={agent}")
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the table only

    page.select_option("select[name=kind]", "succeeded")
    expect(rows).to_have_count(1)
    with page.expect_download() as download:
        page.click("[data-export=csv]")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    *lines, trailer = text.splitlines(keepends=True)
    exported = list(csv.DictReader(io.StringIO("".join(lines))))
    succeeded = job.audit_events.get(kind=Kind.SUCCEEDED)
    assert [int(r["id"]) for r in exported] == [succeeded.pk]
    assert exported[0]["actor_username"] == "sam"
    digest = hashlib.sha256("".join(lines).encode()).hexdigest()
    signed = f"key={key_id()},hmac={sign(export_message('csv', 1, digest))}"
    assert trailer.strip() == f"#trailer,rows=1,sha256={digest},{signed}"

    rows.first.locator("a").first.click()
    expect(page).to_have_url(f"{live_server.url}/audit/{succeeded.pk}/")
    roster = page.locator("[data-roster]")
    expect(roster).to_contain_text(agent)
    expect(page.locator("[data-audit-detail]")).to_contain_text("Winback ran dry")
    expect(page.locator("[data-revert]")).to_have_count(0)  # auditors do not move agents


def test_a_supervisor_reverts_a_move_after_confirming(
    login, page, live_server, directory, worker, simulator, django_user_model
):
    job, sam, agent, source, target = _moved(directory, django_user_model)
    succeeded = job.audit_events.get(kind=Kind.SUCCEEDED)
    login(sam, f"/audit/{succeeded.pk}/")
    page.click("[data-revert]")
    expect(page.locator("[data-revert-agents]")).to_contain_text(agent)
    assert not AllocationJob.objects.filter(revert_of=job).exists()  # not before confirming
    page.click("[data-revert-confirm]")

    revert = AllocationJob.objects.get(revert_of=job)
    expect(page).to_have_url(f"{live_server.url}/jobs/{revert.pk}/")
    expect(page.locator("[data-job-status]").first).to_have_attribute(
        "data-job-status", "succeeded", timeout=20_000
    )
    roster = roster_of([agent])[agent]
    assert source in roster and target not in roster


def test_an_auditor_finds_a_move_by_names_and_a_preset_and_exports_what_they_see(
    login, page, live_server, directory, worker, simulator, django_user_model
):
    """Issue 16 item 2: a campaign name typed partially (autocomplete offers the whole name),
    an agent's name, a preset; the export names what the screen names."""
    from dashboard.audit.selectors import audit_filter_from_params, audit_queryset
    from dashboard.directory.models import Agent, Campaign

    job, _, agent, _, target = _moved(directory, django_user_model)
    agent_name = Agent.objects.get(pk=agent).name
    target_name = Campaign.objects.get(pk=target).name

    def count(**params) -> int:
        return audit_queryset(audit_filter_from_params(params)[0]).count()

    login(make_user(django_user_model, "audrey", "auditor"), "/audit/")
    rows = page.locator("#audit-table [data-audit-id]")
    move = page.locator(f'#audit-table tr[data-audit-move="{job.pk}"]')
    expect(move).to_have_count(1)  # one row for the move, its three steps folded under it
    page.evaluate("window.notReloaded = true")

    partial = target_name[1:-1].lower()
    page.locator("input[name=campaign]").press_sequentially(partial, delay=30)
    expect(page.locator(f'#audit-campaign-options option[value="{target_name}"]')).to_have_count(1)
    expect(page).to_have_url(f"{live_server.url}/audit/?campaign={partial.replace(' ', '+')}")
    expect(rows).to_have_count(count(campaign=partial))
    expect(move).to_have_count(1)

    page.fill("input[name=campaign]", "")
    page.fill("input[name=agent]", agent_name.upper())
    expect(rows).to_have_count(count(agent=agent_name))
    expect(move.locator("[data-audit-agents]")).to_contain_text(agent_name)

    page.select_option("select[name=preset]", "hour")
    expect(page).to_have_url(re.compile(r"preset=hour"))
    expect(rows).to_have_count(count(agent=agent_name, preset="hour"))
    expect(move).to_have_count(1)
    page.locator(f'tr[data-audit-steps="{job.pk}"] summary').click()
    expect(page.locator(f'tr[data-audit-steps="{job.pk}"] [data-audit-step]')).to_have_count(3)

    page.select_option("select[name=kind]", "succeeded")
    expect(rows).to_have_count(1)
    expect(move.locator("[data-audit-headline]")).to_contain_text(f"Moved {agent_name} into")
    expect(move.locator("[data-audit-into]")).to_have_text(target_name)
    assert page.evaluate("window.notReloaded") is True
    with page.expect_download() as download:
        page.click("[data-export=csv]")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    exported = list(csv.DictReader(io.StringIO("".join(text.splitlines(keepends=True)[:-1]))))
    assert [int(r["id"]) for r in exported] == [job.audit_events.get(kind=Kind.SUCCEEDED).pk]
    assert json.loads(exported[0]["agent_names"]) == {agent: agent_name}
    assert json.loads(exported[0]["campaign_names"])[target] == target_name
