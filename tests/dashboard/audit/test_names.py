"""Review by what people know (issue 16 item 2): names stored on rows, partial folded filters,
autocomplete, one row per move, time presets, names in exports, revert with a reason."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.audit.search import fold
from dashboard.audit.selectors import audit_filter_from_params, audit_queryset, preset_range
from dashboard.audit.services import audit_record

Kind = AuditEvent.Kind
pytestmark = pytest.mark.postgres_too


@pytest.fixture
def as_auditor(client, auditor):
    client.force_login(auditor)
    return client


def matching(**params) -> list[AuditEvent]:
    audit_filter, errors = audit_filter_from_params(params)
    assert errors == {}
    return list(audit_queryset(audit_filter))


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_fold_strips_accents_and_case():
    assert fold("  José   NÚÑEZ ") == "jose nunez"
    assert fold("Straße") == "strasse"


def _fold_by_definition(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def test_fold_is_its_definition_for_every_character_alone_and_among_others():
    """``fold``'s shortcuts (ASCII as it is, a translate table, remembered folds) give what
    its definition gives: NFKD, combining marks dropped, casefolded, spaces squeezed."""
    texts = ["", " \t\x1c\x1fA  b\n", "İstanbul", "ǅemal ﬁx", "e\u0301\u0345"]
    for code in range(0x3400):
        c = chr(code)
        texts += [c, f"Ab{c}\u0301 {c}"]
    for text in texts + texts:  # twice: the second fold of a text may be a remembered one
        assert fold(text) == _fold_by_definition(text), ascii(text)


def test_rows_keep_the_names_the_directory_had_when_written(moved):
    succeeded = moved.audit_events.get(kind=Kind.SUCCEEDED)
    assert succeeded.agent_names == {"a1": "Agent 1", "a2": "Agent 2"}
    assert succeeded.campaign_names == {"{C1}": "Renewals", "{C2}": "Winback"}
    assert succeeded.headline == "Moved Agent 1 and Agent 2 into Winback out of Renewals"


def test_names_given_by_the_caller_win_and_are_searchable(mover, db):
    event = audit_record(
        kind=Kind.SUCCEEDED,
        actor=mover,
        agent_ids=["u9"],
        campaign_ids_in=["{S1}"],
        agent_names={"u9": "José Ortiz"},
        campaign_names={"{S1}": "Spring Upsell"},
        reason="Lunch rush",
    )
    other = audit_record(kind=Kind.SUCCEEDED, agent_ids=["u8"], agent_names={"u8": "Emma"})
    assert event.headline == "Moved José Ortiz into Spring Upsell"
    assert matching(agent="jose") == [event]
    assert matching(agent="JOSÉ ort") == [event]
    assert matching(agent="u9") == [event]  # exact ids still work
    assert matching(campaign="Spring") == [event]
    assert matching(campaign="upsell") == [event]
    assert matching(campaign="{S1}") == [event]
    assert matching(agent="emma") == [other]
    assert matching(actor="mov") == [event]
    assert matching(q="lunch") == [event]
    assert matching(q="spring upsell") == [event]
    assert matching(campaign="Autumn") == []


def test_actor_matches_partially(mover, django_user_model, db):
    boss = django_user_model.objects.create_user("supervisor", password="pw-for-tests-only")
    event = audit_record(kind=Kind.ROSTER_IMPORT, actor=boss, message="import")
    audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message="import")
    assert matching(actor="super") == [event]
    assert matching(actor="SUPERVISOR") == [event]


def test_the_list_shows_one_row_per_move_with_its_steps(as_auditor, moved):
    html = as_auditor.get(reverse("audit-list")).text
    assert html.count(f'data-audit-move="{moved.pk}"') == 1
    assert html.count("data-audit-step=") == 3
    assert "Moved Agent 1 and Agent 2 into Winback out of Renewals" in html
    assert "<details>" in html
    # A filter on a step shows the move; the matching step is marked.
    html = as_auditor.get(reverse("audit-list"), {"kind": "started"}).text
    assert html.count(f'data-audit-move="{moved.pk}"') == 1
    assert html.count("data-audit-step=") == 3
    assert html.count("data-audit-id=") == 1


def test_filters_by_name_on_the_page(as_auditor, moved):
    response = as_auditor.get(reverse("audit-list"), {"campaign": "winb", "agent": "agent 2"})
    assert response.status_code == 200
    assert response.text.count("data-audit-id=") == 3
    assert (
        as_auditor.get(reverse("audit-list"), {"campaign": "Surv"}).text.count("data-audit-id=")
        == 0
    )


def test_autocomplete_suggests_names_people_know(as_auditor, moved):
    response = as_auditor.get(reverse("audit-suggest", args=["campaign"]), {"campaign": "WIN"})
    assert response.status_code == 200
    assert '<option value="Winback">Winback ({C2})</option>' in response.text
    agents = as_auditor.get(reverse("audit-suggest", args=["agent"]), {"agent": "agent"}).text
    assert 'value="Agent 1"' in agents and 'value="Agent 2"' in agents
    actors = as_auditor.get(reverse("audit-suggest", args=["actor"]), {"actor": "mov"}).text
    assert '<option value="mover">' in actors
    assert as_auditor.get(reverse("audit-suggest", args=["reason"]), {"reason": "xx"}).text == ""


def test_the_form_offers_autocomplete_and_presets(as_auditor, moved):
    html = as_auditor.get(reverse("audit-list")).text
    assert 'list="audit-campaign-options"' in html
    assert 'hx-get="/audit/suggest/campaign"' in html
    assert '<option value="shift">' in html


@pytest.mark.parametrize(
    ("preset", "since", "until"),
    [
        ("hour", datetime(2026, 3, 10, 9, 30), None),
        ("shift", datetime(2026, 3, 10, 8, 0), None),
        ("today", datetime(2026, 3, 10, 0, 0), None),
        ("yesterday", datetime(2026, 3, 9, 0, 0), datetime(2026, 3, 9, 23, 59, 59, 999999)),
        ("week", datetime(2026, 3, 4, 0, 0), None),
    ],
)
def test_presets_are_in_the_viewers_zone(preset, since, until, settings):
    settings.DASHBOARD_SHIFT_HOURS = 8
    tokyo = ZoneInfo("Asia/Tokyo")
    now = datetime(2026, 3, 10, 10, 30, tzinfo=tokyo)
    with timezone.override(tokyo):
        start, end = preset_range(preset, now)
    assert start == since.replace(tzinfo=tokyo)
    assert end == (until.replace(tzinfo=tokyo) if until else None)


def test_preset_filters_and_stays_in_links(as_auditor, moved):
    response = as_auditor.get(reverse("audit-list"), {"preset": "hour"})
    assert response.status_code == 200
    assert response.text.count("data-audit-id=") == AuditEvent.objects.count()
    assert "preset=hour" in response.text
    assert "since=" not in response.text.split("export-links", 1)[1].split("</p>", 1)[0]
    assert (
        as_auditor.get(reverse("audit-list"), {"preset": "yesterday"}).text.count("data-audit-id=")
        == 0
    )
    bad = as_auditor.get(reverse("audit-list"), {"preset": "decade"})
    assert bad.status_code == 400 and "unknown time preset" in bad.text


def test_exports_name_agents_and_campaigns(as_auditor, moved):
    text = body(as_auditor.get(reverse("audit-export-csv"), {"kind": "succeeded"}))
    rows = list(csv.DictReader(io.StringIO("".join(text.splitlines(keepends=True)[:-1]))))
    assert json.loads(rows[0]["agent_names"]) == {"a1": "Agent 1", "a2": "Agent 2"}
    assert json.loads(rows[0]["campaign_names"]) == {"{C1}": "Renewals", "{C2}": "Winback"}
    lines = body(as_auditor.get(reverse("audit-export-jsonl"), {"kind": "succeeded"}))
    record = json.loads(lines.splitlines()[0])
    assert record["agent_names"] == {"a1": "Agent 1", "a2": "Agent 2"}
    assert record["campaign_names"]["{C2}"] == "Winback"


def test_revert_from_the_job_page_with_a_reason(client, mover, moved):
    client.force_login(mover)
    page = client.get(reverse("job-detail", args=[moved.pk])).text
    assert f'href="/audit/job/{moved.pk}/revert"' in page
    start = client.get(reverse("job-revert", args=[moved.pk]))
    succeeded = moved.audit_events.get(kind=Kind.SUCCEEDED)
    assert start["Location"] == reverse("audit-revert", args=[succeeded.pk])
    confirm = client.get(start["Location"])
    assert "data-revert-reason" in confirm.text
    too_long = client.post(start["Location"], {"reason": "x" * 501})
    assert too_long.status_code == 400
    assert not AllocationJob.objects.filter(revert_of=moved).exists()
    client.post(start["Location"], {"reason": "Winback was paused"})
    revert = AllocationJob.objects.get(revert_of=moved)
    assert revert.reason == f"Revert of job {moved.pk}: Winback was paused"


def test_revert_start_for_a_job_that_did_not_succeed(client, mover, dir_small):
    client.force_login(mover)
    from dashboard.allocations.submit import job_submit

    job, _ = job_submit(actor=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"])
    response = client.get(reverse("job-revert", args=[job.pk]))
    assert response["Location"] == reverse("job-detail", args=[job.pk])


def test_the_api_filters_by_names_and_returns_them(as_auditor, moved):
    response = as_auditor.get("/api/audit", {"campaign": "winb", "preset": "today"})
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 3
    assert items[0]["campaign_names"] == {"{C1}": "Renewals", "{C2}": "Winback"}
    assert items[0]["headline"].endswith("into Winback out of Renewals")
    bad = as_auditor.get("/api/audit", {"preset": "decade"})
    assert bad.status_code == 400 and "preset" in bad.json()["errors"]
