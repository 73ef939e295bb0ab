"""DASHBOARD_AUTH and the CIC role lists are checked: a bad mode stops start-up, and the system
check names a mode that gives nobody a role."""

from __future__ import annotations

import os
import subprocess
import sys

from dashboard.accounts.checks import sign_in_settings


def test_an_unknown_mode_stops_start_up_naming_the_variable():
    env = dict(os.environ, DASHBOARD_AUTH="ldap", DJANGO_SETTINGS_MODULE="tests.settings")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DASHBOARD_AUTH must be local, cic or both, got 'ldap'" in result.stderr


def test_the_system_check(settings):
    settings.DASHBOARD_AUTH = "local"
    assert sign_in_settings(None) == []
    settings.DASHBOARD_AUTH = "cic"
    settings.CIC_SUPERVISOR_ROLES = settings.CIC_AUDITOR_ROLES = settings.CIC_ADMIN_ROLES = []
    assert [m.id for m in sign_in_settings(None)] == ["accounts.W001"]
    settings.CIC_SUPERVISOR_ROLES = ["Supervisor"]
    assert sign_in_settings(None) == []
    settings.DASHBOARD_AUTH = "sso"
    assert [m.id for m in sign_in_settings(None)] == ["accounts.E001"]
