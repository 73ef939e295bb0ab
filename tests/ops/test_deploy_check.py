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
    "ICWS_AGENT_WORKGROUPS": "Sales Outbound",
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


def test_deploy_check_passes_with_the_environment_compose_gives_the_web_service(tmp_path):
    """Not a copy of the settings: the web service's environment as ``docker compose config``
    resolves it from docker-compose.yml and .env.example (its blank secrets filled in), so
    DJANGO_TRUSTED_PROXIES, AUDIT_SIGNING_KEY and the rest are what compose would really pass."""
    import shutil

    import pytest

    yaml = pytest.importorskip("yaml")  # compose 1.x prints its config only as YAML

    command = ["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"]
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / "deploy").mkdir()
    shutil.copy(ROOT / "deploy" / "nginx.conf", tmp_path / "deploy" / "nginx.conf")
    secrets_for_blanks = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_SIGNING_KEY": "a" * 64,
        "METRICS_TOKEN": "m" * 32,
        # .env.example points at the compose simulator over http (dashboard.W001, rightly):
        # a production .env names the real CIC server over https.
        "ICWS_BASE_URL": "https://cic1.example.com:8019",
    }
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={secrets_for_blanks[name]}" if name in secrets_for_blanks else line)
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [*command, "config"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode and "unknown command" in result.stderr:
        pytest.skip("docker has no compose plugin")
    assert result.returncode == 0, result.stderr
    web_env = yaml.safe_load(result.stdout)["services"]["web"]["environment"]
    assert web_env["DJANGO_TRUSTED_PROXIES"] == "172.30.80.10/32"
    assert web_env["AUDIT_SIGNING_KEY"] == "a" * 64
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        **{k: str(v) for k, v in web_env.items() if v is not None},
    }
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "System check identified no issues" in check.stdout + check.stderr
