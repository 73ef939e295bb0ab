"""``manage.py icws_check`` against the strict simulator: each OK / WARN / FAIL line."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from dashboard.icws import reset_client
from dashboard.ops.preflight import run_checks
from icws_client import IcwsClient
from icws_client.simulator import Simulator
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER


def _lines(sim, groups=("Renewals",), allowed=("cic-icws",)):
    client = IcwsClient(sim.base_url, SERVICE_USER, SERVICE_PASSWORD, timeout=2.0)
    try:
        return {
            (line.level, line.check, line.text)
            for line in run_checks(client, list(groups), list(allowed))
        }
    finally:
        client.close()


def _levels(lines, check):
    return {level for level, name, _ in lines if name == check}


def test_a_healthy_server_has_no_fail_and_warns_on_the_unconfirmed(sim):
    lines = _lines(sim)
    assert not [line for line in lines if line[0] == "FAIL"], lines
    assert _levels(lines, "connect") == {"OK"}
    assert _levels(lines, "features") == {"OK"}
    assert _levels(lines, "agent workgroups") == {"OK"}
    assert _levels(lines, "messaging") == {"OK"}
    assert _levels(lines, "alternate hosts") == {"OK"}
    assert _levels(lines, "rights") == {"WARN"}
    assert any("Dialer Add-on licence" in text for _, c, text in lines if c == "rights")
    # The property is read, not refused: the server (like the record) just shows no value.
    assert any("gave no licenseProperties" in text for _, c, text in lines if c == "rights")
    assert _levels(lines, "campaigns") == {"OK", "WARN"}
    assert any("unconfirmed" in text for _, c, text in lines if c == "campaigns")
    assert any("members" in text for _, c, text in lines if c == "agent workgroups")


def test_wrong_password_fails_connect():
    with Simulator(port=0, service_user=SERVICE_USER, service_password="other") as sim:
        lines = _lines(sim)
    assert _levels(lines, "connect") == {"FAIL"}


def test_old_dialer_fails_and_old_messaging_warns():
    with Simulator(
        port=0,
        service_user=SERVICE_USER,
        service_password=SERVICE_PASSWORD,
        dialer_version=6,
        messaging_version=1,
    ) as sim:
        lines = _lines(sim)
    assert ("FAIL", "features") in {(lv, c) for lv, c, _ in lines}
    assert any(lv == "WARN" and "SSE" in t for lv, c, t in lines if c == "features")


def test_unknown_or_empty_workgroup_fails(sim):
    lines = _lines(sim, groups=("Renewals", "Nope"))
    assert any(lv == "FAIL" and "'Nope'" in t for lv, c, t in lines if c == "agent workgroups")
    empty = _lines(sim, groups=("Supervisors-none",))
    assert _levels(empty, "agent workgroups") == {"FAIL"}
    assert _levels(_lines(sim, groups=()), "agent workgroups") == {"FAIL"}


def test_workgroup_without_members_fails():
    seed = {
        "workgroups": [{"id": "Team"}, {"id": "Empty"}],
        "users": [{"id": "ann", "displayName": "Ann", "workgroups": ["Team"], "roles": []}],
        "campaigns": [{"id": "C1", "name": "One", "workgroup": "Team", "status": [1]}],
        "membership": {},
    }
    with Simulator(
        port=0, seed=seed, service_user=SERVICE_USER, service_password=SERVICE_PASSWORD
    ) as sim:
        lines = _lines(sim, groups=("Empty",))
    assert any(lv == "FAIL" and "no members" in t for lv, c, t in lines)


def test_unlisted_or_no_alternate_hosts_warn():
    with Simulator(
        port=0, service_user=SERVICE_USER, service_password=SERVICE_PASSWORD, alternate_hosts=()
    ) as sim:
        assert _levels(_lines(sim), "alternate hosts") == {"WARN"}
    with Simulator(port=0, service_user=SERVICE_USER, service_password=SERVICE_PASSWORD) as sim:
        lines = _lines(sim, allowed=())
    assert any(lv == "WARN" and "cic-icws" in t for lv, c, t in lines if c == "alternate hosts")


def test_messaging_failure_fails(sim):
    sim.set_faults(status=500, paths="messaging/messages")
    assert _levels(_lines(sim), "messaging") == {"FAIL"}


def test_campaign_list_failure_fails(sim):
    sim.set_faults(status=403, paths="interaction-dialer-campaign-acls")
    assert _levels(_lines(sim), "campaigns") == {"FAIL"}


@pytest.mark.django_db
def test_command_exits_non_zero_on_a_fail_and_prints_each_line(sim, settings, capsys):
    settings.ICWS_BASE_URL = sim.base_url
    settings.ICWS_USER, settings.ICWS_PASSWORD = SERVICE_USER, SERVICE_PASSWORD
    settings.ICWS_ALTERNATE_HOSTS = ["cic-icws"]
    settings.ICWS_AGENT_WORKGROUPS = ["Renewals"]
    reset_client()
    call_command("icws_check")
    out = capsys.readouterr().out
    assert "OK    connect" in out and "WARN  rights" in out
    settings.ICWS_AGENT_WORKGROUPS = ["Nope"]
    with pytest.raises(CommandError, match="1 check"):
        call_command("icws_check")
