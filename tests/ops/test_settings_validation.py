"""Bad environment values stop start-up with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"DJANGO_SECRET_KEY": "s" * 60, "DJANGO_ALLOWED_HOSTS": "dashboard.example.com"}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    full_env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DASHBOARD_LOG_FORMAT": "plain",
        **env,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


def _setup(**env: str) -> subprocess.CompletedProcess:
    return _run(["-c", "import django; django.setup()"], **env)


def test_good_environment_starts():
    result = _setup(**GOOD)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {**GOOD, "ICWS_BASE_URL": "cic1.example.com:8019"},
            "ICWS_BASE_URL must start with http:// or https://",
        ),
        ({**GOOD, "ICWS_TIMEOUT": "abc"}, "ICWS_TIMEOUT must be a number, got 'abc'"),
        (
            {**GOOD, "DJANGO_DEBUG": "1"},
            "DJANGO_DEBUG is on with a public host in DJANGO_ALLOWED_HOSTS",
        ),
        (
            {**GOOD, "DASHBOARD_DEMO": "1"},
            "DASHBOARD_DEMO is on with a public host in DJANGO_ALLOWED_HOSTS",
        ),
        (
            {"DASHBOARD_DEMO": "1", "DJANGO_ALLOWED_HOSTS": "localhost,demo.example.com"},
            "demo accounts have published passwords",
        ),
        ({**GOOD, "DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be one of 1/0"),
        ({"DJANGO_DEBUG": "0"}, "DJANGO_SECRET_KEY must be set"),
        ({**GOOD, "DASHBOARD_LOG_FORMAT": "xml"}, "DASHBOARD_LOG_FORMAT must be json or plain"),
        ({**GOOD, "LOGIN_FAILURE_LIMIT": "0"}, "LOGIN_FAILURE_LIMIT must be at least 1"),
    ],
)
def test_bad_environment_stops_start_up(env, message):
    result = _setup(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_missing_icws_credentials_are_system_check_errors():
    result = _run(["manage.py", "check"], **GOOD, ICWS_USER="", ICWS_PASSWORD="")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "(dashboard.E001) ICWS_USER is not set." in output
    assert "(dashboard.E002) ICWS_PASSWORD is not set." in output
