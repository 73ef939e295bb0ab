"""Fixtures for the ops tests: role users, and a clean ICWS call tally."""

from __future__ import annotations

import socket

import pytest
from django.contrib.auth.models import Group

from dashboard.ops import icws_calls

PASSWORD = "pw-for-tests-only"


def _user(django_user_model, username: str, role: str | None, **extra):
    user = django_user_model.objects.create_user(username, password=PASSWORD, **extra)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def supervisor(django_user_model):
    return _user(django_user_model, "sup", "supervisor", is_staff=True)


@pytest.fixture
def admin_user(django_user_model):
    return _user(django_user_model, "boss", "admin", is_staff=True)


@pytest.fixture
def no_pending_icws_calls():
    """Forget calls other tests in this process tallied, so counts start at zero."""
    with icws_calls._lock:
        icws_calls._pending.clear()
    yield
    with icws_calls._lock:
        icws_calls._pending.clear()


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


METRICS_TOKEN = "metrics-token-for-tests"


@pytest.fixture
def metrics_auth(settings) -> dict[str, str]:
    """Headers of a caller holding the metrics token (/metrics, /readyz detail)."""
    settings.METRICS_TOKEN = METRICS_TOKEN
    return {"Authorization": f"Bearer {METRICS_TOKEN}"}
