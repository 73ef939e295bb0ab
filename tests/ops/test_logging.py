import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.core.logcontext import bind_job_id, bind_request_id
from dashboard.ops.logformat import ContextFilter, JsonFormatter, RedactFilter, redact

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_lines():
    """Records of every logger, as the JSON lines production writes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_access_log_lines_carry_the_request_id(client, json_lines):
    client.get("/accounts/login/", headers={"X-Request-ID": "req-77"})
    access = [e for e in json_lines() if e["logger"] == "dashboard.access"]
    assert access, json_lines()
    entry = access[-1]
    assert entry["request_id"] == "req-77"
    assert entry["message"].startswith("GET /accounts/login/ -> 200 in ")
    assert entry["level"] == "INFO"
    assert entry["time"].endswith("+00:00")
    assert "job_id" not in entry


def test_job_lines_carry_the_job_id_and_no_password(json_lines):
    log = logging.getLogger("dashboard.allocations.tasks")
    with bind_job_id(17, request_id="req-9"):
        log.warning("connect body %s", {"userID": "svc", "password": "hunter2-secret"})
        log.warning("ICWS_PASSWORD=hunter2-secret; Authorization: Bearer tok3n-value")
    log.warning("after the job")
    first, second, after = json_lines()
    assert first["job_id"] == 17 and first["request_id"] == "req-9"
    assert "hunter2-secret" not in json.dumps([first, second])
    assert "tok3n-value" not in second["message"]
    assert "'password': '***'" in first["message"]
    assert "job_id" not in after and after["request_id"] is None


def test_tracebacks_are_redacted_too(json_lines):
    log = logging.getLogger("dashboard.test")
    with bind_request_id("req-tb"):
        try:
            raise ValueError("csrfToken=abc123secret in the body")
        except ValueError:
            log.exception("failed")
    (entry,) = json_lines()
    assert "ValueError" in entry["exc"]
    assert "abc123secret" not in entry["exc"]


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("password=hunter2", "hunter2"),
        ('{"password": "hunter2"}', "hunter2"),
        ("{'csrfToken': 'c5rf'}", "c5rf"),
        ("ININ-ICWS-CSRF-Token: c5rf", "c5rf"),
        ("Cookie: JSESSIONID=s3ss; other=v2", "s3ss"),
        ("Cookie: JSESSIONID=s3ss; other=v2", "v2"),
        ("Authorization: Token k3y", "k3y"),
        ("redis://:br0ker@redis:6379/0", "br0ker"),
    ],
)
def test_redact_masks_secret_values(text, leak):
    assert leak not in redact(text)


def test_redact_keeps_ordinary_text():
    for text in ["ICWS_PASSWORD is not set.", "password authentication failed for user x"]:
        assert redact(text) == text


def test_production_settings_log_json_without_the_password():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_SECRET_KEY": "k" * 60,
        "ICWS_PASSWORD": "icws-pass-value",
    }
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('dashboard.x').warning('login with %s', 'password=icws-pass-value')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["logger"] == "dashboard.x"
    assert entry["level"] == "WARNING"
    assert "icws-pass-value" not in result.stderr


def test_debug_settings_log_plain_lines():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_DEBUG": "1",
    }
    code = "import django, logging; django.setup(); logging.getLogger('dashboard.x').warning('hi')"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("WARNING dashboard.x hi")


def test_icws_password_is_hidden_from_error_reports(rf, settings):
    from django.views.debug import get_default_exception_reporter_filter

    settings.ICWS_PASSWORD = "icws-pass-value"
    settings.CELERY_BROKER_URL = "redis://:br0ker@redis:6379/0"
    safe = get_default_exception_reporter_filter().get_safe_settings()
    assert safe["ICWS_PASSWORD"] != "icws-pass-value"
    assert "br0ker" not in str(safe["CELERY_BROKER_URL"])
    assert "br0ker" not in str(safe)
    request = rf.get("/", headers={"Authorization": "Token k3y"})
    meta = get_default_exception_reporter_filter().get_safe_request_meta(request)
    assert "k3y" not in str(meta)
