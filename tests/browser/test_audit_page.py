"""The audit log in headless Chromium: filter without a reload, open an entry, export, revert."""

from __future__ import annotations

import csv
import hashlib
import io
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
    job_submit(  # a second, unrelated entry the filter must hide
        actor=make_user(django_user_model, "other", "supervisor"),
        agent_ids=[a for a in directory["membership"] if a != agent][:1],
        campaign_ids_in=[target],
    )
    login(make_user(django_user_model, "audrey", "auditor"), "/audit/")
    rows = page.locator("#audit-table [data-audit-id]")
    expect(rows).to_have_count(AuditEvent.objects.count())
    page.evaluate("window.notReloaded = true")

    page.fill("input[name=agent]", agent)
    about_agent = AuditEvent.objects.filter(subjects__kind="agent", subjects__subject_id=agent)
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
