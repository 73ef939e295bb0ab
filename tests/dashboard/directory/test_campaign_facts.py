"""Campaign facts from CSV (issue 13 item 2): checked row by row, all or nothing, audited."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from dashboard.audit.models import AuditEvent
from dashboard.directory.campaign_facts import campaign_facts_import
from dashboard.directory.models import Campaign

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_too]

GOOD = (
    "campaign_id,name,workgroup,state,state_note,staffing_target\n"
    "{C1},Renewals,Care,paused,Held for the list refresh,12\n"
    "{C2},Winback,,running,,\n"
)


def _facts(cid):
    c = Campaign.objects.get(id=cid)
    return (
        c.state,
        c.state_source,
        c.workgroup_id,
        c.workgroup_source,
        c.state_note,
        c.staffing_target,
    )


def test_a_good_file_sets_every_fact_marked_admin_and_audits(dir_small, mover):
    result = campaign_facts_import(data=GOOD.encode(), actor=mover, filename="facts.csv")
    assert result.ok, result.errors
    assert (result.rows, result.changed) == (2, 2)
    assert _facts("{C1}") == ("paused", "admin", "Care", "admin", "Held for the list refresh", 12)
    assert _facts("{C2}") == ("on", "admin", None, "", "", None)
    c1 = Campaign.objects.get(id="{C1}")
    assert c1.state_recorded_by == "mover" and c1.state_recorded_at is not None
    (event,) = AuditEvent.objects.filter(kind=AuditEvent.Kind.ROSTER_IMPORT)
    assert event.actor == mover
    assert event.details["import"] == "campaign_facts" and event.details["rows"] == 2
    assert event.details["changes"]["{C1}"]["state"] == ["on", "paused"]
    assert event.details["changes"]["{C1}"]["staffing_target"] == [None, 12]
    assert "2 campaign(s) changed" in event.message and "facts.csv" in event.message


def test_absent_columns_are_left_alone(dir_small):
    result = campaign_facts_import(data="campaign_id,staffing_target\n{C3},4\n")
    assert result.ok, result.errors
    assert _facts("{C3}") == ("off", "", "Care", "", "", 4)  # state and workgroup untouched


def test_every_error_is_named_by_line_and_column_and_nothing_is_written(dir_small):
    bad = (
        "campaign_id,workgroup,state,state_note,staffing_target\n"
        "{C1},Care,paused,ok,3\n"
        "{NOPE},Care,on,,\n"
        "{C2},Nowhere,sleeping,\x07,-1\n"
        "{C1},,,,\n"
        "{C3},Care\n"
    )
    result = campaign_facts_import(data=bad)
    assert not result.ok
    assert result.errors == [
        "line 3, campaign_id: no campaign with id '{NOPE}'",
        "line 4, workgroup: no workgroup 'Nowhere'",
        "line 4, state: 'sleeping' is not one of on, off, paused, schedule-only, auto, "
        "completed, unknown",
        "line 4, state_note: holds control characters",
        "line 4, staffing_target: '-1' is not a whole number from 0 to 100000",
        "line 5, campaign_id: '{C1}' is already on line 2",
        "line 6: 2 cells, but the header names 5 columns",
    ]
    assert _facts("{C1}") == ("on", "", "Sales", "", "", None)  # line 2 was fine, still unwritten
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "line 1: the header row is missing"),
        (b"workgroup\nCare\n", "line 1: the header needs a campaign_id column"),
        (b"campaign_id,colour\n{C1},red\n", "line 1: unknown column 'colour'"),
        (b"campaign_id\n{C1}\n", "line 1: the header names no fact to set"),
        (b"campaign_id,state\n", "the file has a header but no rows"),
        (b"campaign_id,state\n{C1},\xff\n", "the file is not UTF-8 text"),
        (b"campaign_id,state,state\n{C1},on,on\n", "line 1: column 'state' appears twice"),
    ],
)
def test_malformed_files_are_refused_with_a_clear_error(dir_small, data, error):
    result = campaign_facts_import(data=data)
    assert result.errors and result.errors[0].startswith(error), result.errors
    assert not AuditEvent.objects.exists()


def test_the_management_command(dir_small, tmp_path, mover, capsys):
    path = tmp_path / "facts.csv"
    path.write_text(GOOD, encoding="utf-8")
    call_command("import_campaign_facts", str(path), "--as-user", "mover")
    assert "Imported 2 row(s): 2 campaign(s) changed." in capsys.readouterr().out
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.ROSTER_IMPORT).actor == mover
    path.write_text("campaign_id,state\n{C1},asleep\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_campaign_facts", str(path))
    assert "line 2, state: 'asleep'" in capsys.readouterr().err


def test_the_admin_upload(client, admin_user, dir_small):
    client.force_login(admin_user)
    page = client.get("/admin/directory/campaign/")
    assert b"/admin/directory/campaign/import/" in page.content
    bad = SimpleUploadedFile("f.csv", b"campaign_id,state\n{C1},<b>x</b>\n", "text/csv")
    r = client.post("/admin/directory/campaign/import/", {"file": bad})
    assert r.status_code == 200
    assert b"line 2, state: &#x27;&lt;b&gt;x&lt;/b&gt;&#x27;" in r.content  # escaped
    good = SimpleUploadedFile("f.csv", GOOD.encode(), "text/csv")
    r = client.post("/admin/directory/campaign/import/", {"file": good})
    assert r.status_code == 302
    assert _facts("{C1}")[0] == "paused"
    assert Campaign.objects.get(id="{C1}").state_recorded_by == admin_user.username


def test_the_admin_upload_is_refused_to_a_supervisor(client, mover, dir_small):
    mover.is_staff = True
    mover.save()
    client.force_login(mover)
    r = client.post(
        "/admin/directory/campaign/import/",
        {"file": SimpleUploadedFile("f.csv", GOOD.encode(), "text/csv")},
    )
    assert r.status_code in (302, 403)  # to the admin sign-in, or refused
    assert _facts("{C1}")[0] == "on"
