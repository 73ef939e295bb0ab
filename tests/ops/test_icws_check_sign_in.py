"""``icws_check``'s "CIC sign-in" line against the simulator: OK, WARN and FAIL."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from dashboard.ops.preflight import SignInCheck, _sign_in
from icws_client import IcwsClient
from icws_client.simulator.seed import AGENT_PASSWORD
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER


def _check(sim, user, password, mode="cic", roles=("Supervisor",)):
    def connect(u, p):
        return IcwsClient(sim.base_url, u, p, timeout=2.0)

    def map_roles(access):
        held = set(access.roles) | set(access.workgroups)
        return ({"supervisor"} if held & set(roles) else set()), "Renewals" in held

    return _sign_in(SignInCheck(mode, user, password, connect, map_roles))


def _one(lines):
    (line,) = lines
    assert line.check == "CIC sign-in"
    return line.level, line.text


def test_a_test_user_that_maps_to_a_role_is_ok(sim):
    level, text = _one(_check(sim, "sup.morgan", "supervisor-demo"))
    assert level == "OK" and "signs in as supervisor" in text and "Supervisor" in text


def test_a_test_user_with_no_dashboard_role_warns(sim):
    level, text = _one(_check(sim, SERVICE_USER, SERVICE_PASSWORD))
    assert level == "WARN" and "no dashboard role" in text and "CIC_SUPERVISOR_ROLES" in text


def test_a_wrong_password_fails(sim):
    level, text = _one(_check(sim, "sup.morgan", "wrong"))
    assert level == "FAIL" and "connect as 'sup.morgan' failed" in text


def test_cic_down_fails(sim):
    sim.set_faults(down=True)
    assert _one(_check(sim, "sup.morgan", "supervisor-demo"))[0] == "FAIL"


def test_without_a_test_user_cic_mode_warns_and_local_mode_is_ok(sim):
    level, text = _one(_check(sim, "", "", mode="both"))
    assert level == "WARN" and "ICWS_CHECK_USER" in text
    assert _one(_check(sim, "", "", mode="local"))[0] == "OK"


@pytest.mark.django_db
def test_the_command_prints_the_line_with_the_settings(sim, settings, capsys):
    settings.ICWS_BASE_URL = sim.base_url
    settings.ICWS_USER, settings.ICWS_PASSWORD = SERVICE_USER, SERVICE_PASSWORD
    settings.ICWS_TIMEOUT = 2.0
    settings.ICWS_ALTERNATE_HOSTS = ["cic-icws"]
    settings.ICWS_AGENT_WORKGROUPS = ["Renewals"]
    settings.DASHBOARD_AUTH = "cic"
    agent = next(a["id"] for a in sim.state()["agents"] if "Renewals" in a["workgroups"])
    settings.ICWS_CHECK_USER, settings.ICWS_CHECK_PASSWORD = agent, AGENT_PASSWORD
    call_command("icws_check")
    out = capsys.readouterr().out
    assert f"OK    CIC sign-in: '{agent}' signs in as agent" in out
