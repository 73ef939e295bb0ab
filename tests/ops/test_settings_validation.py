"""Bad environment values stop start-up with a message naming the variable."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"DJANGO_SECRET_KEY": "s" * 60, "DJANGO_ALLOWED_HOSTS": "dashboard.example.com"}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    full_env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DASHBOARD_LOG_FORMAT": "plain",
        # An empty var dir: a `make run` in the checkout (var/local.env) must not change these.
        "DASHBOARD_VAR_DIR": tempfile.mkdtemp(prefix="settings-test-"),
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
        # Host names compared whole, never by prefix (issue 17).
        (
            {"DJANGO_DEBUG": "1", "DJANGO_ALLOWED_HOSTS": "localhost.evil.example"},
            "DJANGO_DEBUG is on with a public host in DJANGO_ALLOWED_HOSTS",
        ),
        (
            {"DASHBOARD_DEMO": "1", "DJANGO_ALLOWED_HOSTS": "127.0.0.1.nip.io,localhost"},
            "DASHBOARD_DEMO is on with a public host in DJANGO_ALLOWED_HOSTS",
        ),
        (
            {"DJANGO_DEBUG": "1", "DJANGO_ALLOWED_HOSTS": "[::1].evil.example"},
            "DJANGO_DEBUG is on with a public host in DJANGO_ALLOWED_HOSTS",
        ),
        (
            {**GOOD, "DJANGO_TRUSTED_PROXIES": "10.0.0.1/8"},
            "DJANGO_TRUSTED_PROXIES must be a comma list of networks",
        ),
        (
            {**GOOD, "DJANGO_TRUSTED_PROXIES": "10.0.0.0/8,nginx"},
            "'nginx' is not one",
        ),
        ({**GOOD, "DJANGO_TRUSTED_PROXY_COUNT": "1"}, "DJANGO_TRUSTED_PROXY_COUNT is gone"),
        ({**GOOD, "LOGIN_USERNAME_FAILURE_LIMIT": "x"}, "LOGIN_USERNAME_FAILURE_LIMIT must be"),
        (
            {**GOOD, "DATABASE_TRANSACTION_POOLER": "pgbouncer"},
            "DATABASE_TRANSACTION_POOLER must be one of",
        ),
        (
            {**GOOD, "CELERY_WORKER_POOL": "thread"},
            "CELERY_WORKER_POOL must be one of threads, prefork, solo; got 'thread'",
        ),
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


def test_loopback_hosts_are_allowed_in_debug():
    hosts = "localhost,127.0.0.1,127.0.0.2,::1,[::1],LOCALHOST"
    result = _setup(DJANGO_DEBUG="1", DASHBOARD_DEMO="1", DJANGO_ALLOWED_HOSTS=hosts)
    assert result.returncode == 0, result.stderr


def test_trusted_proxies_are_parsed_as_networks():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(sorted(map(str, settings.TRUSTED_PROXIES)))"
    )
    result = _run(["-c", code], **GOOD, DJANGO_TRUSTED_PROXIES="172.30.80.10, fd00::/8")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['172.30.80.10/32', 'fd00::/8']"


_CURSORS = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS'])"
)


@pytest.mark.parametrize(("value", "disabled"), [(None, "False"), ("0", "False"), ("1", "True")])
def test_a_transaction_pooler_turns_off_server_side_cursors_and_prepared_reads(value, disabled):
    # core.prepared reads DISABLE_SERVER_SIDE_CURSORS (test_prepared: not prepared behind a
    # pooler): a pooler in transaction mode hands each transaction another server session.
    env = {**GOOD, "DATABASE_URL": "postgres://u@db.example.com:6432/dashboard"}
    if value is not None:
        env["DATABASE_TRANSACTION_POOLER"] = value
    result = _run(["-c", _CURSORS], **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == disabled


_SHOW = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DEBUG, settings.DEMO_MODE, len(settings.SECRET_KEY))"
)


def test_the_var_dirs_local_env_gives_the_embedded_defaults_flags_and_a_generated_key(tmp_path):
    (tmp_path / "local.env").write_text("# by run_local\nDJANGO_DEBUG=1\nDASHBOARD_DEMO=1\n")
    first = _run(["-c", _SHOW], DASHBOARD_VAR_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == [
        "True",
        "True",
        str(len((tmp_path / "secret_key").read_text().strip())),
    ]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    key = (tmp_path / "secret_key").read_text()
    again = _run(["-c", _SHOW], DASHBOARD_VAR_DIR=str(tmp_path))
    assert again.returncode == 0 and (tmp_path / "secret_key").read_text() == key  # kept
    # The environment wins over the file.
    env_wins = _run(["-c", _SHOW], DASHBOARD_VAR_DIR=str(tmp_path), DJANGO_DEBUG="0")
    assert env_wins.stdout.split()[:2] == ["False", "True"]


def test_a_malformed_local_env_stops_start_up_naming_the_line(tmp_path):
    (tmp_path / "local.env").write_text("DJANGO_DEBUG=1\nDJANGO_SECRET_KEY=x\n")
    result = _run(["-c", _SHOW], DASHBOARD_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "local.env line 2" in result.stderr and "ImproperlyConfigured" in result.stderr
