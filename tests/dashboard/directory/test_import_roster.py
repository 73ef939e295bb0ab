import pytest
from django.core.management import CommandError, call_command

from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent, Campaign, RosterEntry
from dashboard.directory.selectors import roster_of


@pytest.fixture
def directory(db):
    Campaign.objects.create(id="{C1}", name="Renewals", state="on")
    Campaign.objects.create(id="{C2}", name="Winback", state="on")
    for i in (1, 2, 3):
        Agent.objects.create(id=f"a{i}", name=f"Agent {i}")
    RosterEntry.objects.create(agent_id="a1", campaign_id="{C1}")
    RosterEntry.objects.create(agent_id="a3", campaign_id="{C1}")


def _write(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_it_replaces_the_roster_of_listed_agents_only(directory, tmp_path, capsys):
    path = _write(tmp_path, "agent_id,campaign_id\na1,{C2}\na2,{C1}\na2,{C2}\n")
    call_command("import_roster", str(path))
    assert roster_of(["a1", "a2", "a3"]) == {"a1": ["{C2}"], "a2": ["{C1}", "{C2}"], "a3": ["{C1}"]}
    assert Agent.objects.get(pk="a1").roster_version == 1
    assert Agent.objects.get(pk="a3").roster_version == 0
    row = AuditEvent.objects.get(kind="roster_import")
    assert row.roster_before["a1"] == ["{C1}"]
    assert "3 row(s)" in capsys.readouterr().out


def test_an_empty_campaign_takes_the_agent_out_of_every_campaign(directory, tmp_path):
    call_command("import_roster", str(_write(tmp_path, "a1,\n")))
    assert roster_of(["a1"]) == {"a1": []}


def test_any_bad_row_rejects_the_whole_file_naming_each_line(directory, tmp_path, capsys):
    path = _write(tmp_path, "a1,{C2}\nghost,{C1}\na2,{NOPE}\na3\n")
    with pytest.raises(CommandError, match="3 error"):
        call_command("import_roster", str(path))
    err = capsys.readouterr().err
    assert "line 2: unknown agent 'ghost'" in err
    assert "line 3: unknown campaign '{NOPE}'" in err
    assert "line 4: expected 2 columns" in err
    assert roster_of(["a1"]) == {"a1": ["{C1}"]}, "nothing was written"
    assert not AuditEvent.objects.exists()


def test_unreadable_file_is_a_clear_error(directory, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_roster", str(tmp_path / "missing.csv"))
    bad = tmp_path / "bin.csv"
    bad.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_roster", str(bad))
