"""``manage.py check --deploy`` with a production-like environment prints no issues."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "dashboard.example.com",
    "ICWS_BASE_URL": "https://cic1.example.com:8019",
    "ICWS_USER": "svc",
    "ICWS_PASSWORD": "x",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "METRICS_TOKEN": "m" * 32,
    "DJANGO_TRUSTED_PROXIES": "172.30.80.10/32",  # as docker-compose.yml sets it
    "AUDIT_SIGNING_KEY": "a" * 64,
}


def _deploy_check(**overrides: str) -> tuple[int, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        **PRODUCTION_ENV,
        **overrides,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


def test_deploy_check_passes_with_production_settings():
    returncode, output = _deploy_check()
    assert returncode == 0, output
    assert "System check identified no issues" in output


def test_deploy_check_warns_about_metrics_without_a_token():
    returncode, output = _deploy_check(METRICS_TOKEN="")
    assert returncode != 0
    assert "dashboard.W002" in output
    assert "/metrics is served without a token" in output
    returncode, output = _deploy_check(METRICS_TOKEN="", METRICS_ENABLED="0")
    assert returncode == 0, output
