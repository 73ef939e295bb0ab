"""docker-compose.yml publishes only the reverse proxy; gunicorn has no host port (issue 17).

A client that reaches gunicorn directly could send any X-Forwarded-For; with only nginx
published, every request's peer is the proxy the app trusts, which appends the real address.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = (ROOT / "docker-compose.yml").read_text()


def _services() -> dict[str, str]:
    body = COMPOSE.split("\nservices:\n", 1)[1].split("\nnetworks:\n", 1)[0]
    blocks = re.split(r"^  ([a-z][a-z0-9_-]*):\n", body, flags=re.M)
    return dict(zip(blocks[1::2], blocks[2::2], strict=True))


def test_only_the_proxy_is_published_on_all_interfaces():
    services = _services()
    published = {name for name, text in services.items() if re.search(r"^    ports:", text, re.M)}
    assert published == {"proxy", "flower"}
    assert '"127.0.0.1:5555:5555"' in services["flower"]  # the monitor: loopback only
    assert "ports:" not in services["web"] and "8000:8000" not in COMPOSE


def test_the_app_trusts_exactly_the_proxys_fixed_address():
    services = _services()
    assert "ipv4_address: 172.30.80.10" in services["proxy"]
    assert "DJANGO_TRUSTED_PROXIES: ${DJANGO_TRUSTED_PROXIES:-172.30.80.10/32}" in COMPOSE
    assert "image: nginx" in services["proxy"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["proxy"]


def test_the_proxy_appends_the_peer_and_buffers():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_buffering on;" in conf
    assert "proxy_pass http://dashboard_web;" in conf and "server web:8000;" in conf


def _compose_command() -> list[str] | None:
    """Debian's docker-compose, or docker's compose plugin when docker has one (a docker client
    without it answers "unknown command" or "unknown flag", depending on its version)."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


@pytest.mark.skipif(_compose_command() is None, reason="no compose client")
def test_compose_config_is_valid(tmp_path):
    for name in ("docker-compose.yml", ".env.example"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "deploy").mkdir()
    shutil.copy(ROOT / "deploy" / "nginx.conf", tmp_path / "deploy" / "nginx.conf")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run(
        [*_compose_command(), "config", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
