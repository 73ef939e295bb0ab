"""The PostgreSQL backend's health check (``dashboard.core.postgresql``): a connection the server
ended is replaced before a request uses it, as with Django's ``SELECT 1``; a quiet connection in
use a moment ago is trusted without a round trip. Real PostgreSQL, a backend really terminated."""

from __future__ import annotations

import select
import time
from unittest import mock

import psycopg
import pytest
from django.db import connections

from dashboard.core.postgresql import base

pytestmark = [pytest.mark.postgres_too, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def conn():
    wrapper = connections["default"]
    if wrapper.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    assert isinstance(wrapper, base.DatabaseWrapper)
    assert wrapper.health_check_enabled
    # A request a moment ago: the connection is within the time its quiet socket is trusted
    # (the test database's connection may be older than that).
    _next_request(wrapper)
    _backend_pid(wrapper)
    return wrapper


def _next_request(wrapper) -> None:
    """What Django does to a kept connection when a request starts."""
    wrapper.close_if_unusable_or_obsolete()


def _backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(wrapper, pid: int) -> None:
    s = wrapper.settings_dict
    with psycopg.connect(
        host=s["HOST"],
        port=s["PORT"] or 5432,
        user=s["USER"],
        password=s["PASSWORD"],
        dbname=s["NAME"],
        autocommit=True,
    ) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    # The server's FATAL message and its end of the socket arrive on our side.
    poller = select.poll()
    poller.register(wrapper.connection.pgconn.socket, select.POLLIN)
    assert poller.poll(5000), "the terminated backend's socket never became readable"


def test_a_connection_the_server_ended_is_replaced_before_a_request_uses_it(conn):
    pid = _backend_pid(conn)
    _terminate(conn, pid)

    _next_request(conn)
    assert _backend_pid(conn) != pid  # no OperationalError: a new connection answered


def test_a_quiet_connection_used_a_moment_ago_costs_no_round_trip(conn):
    _backend_pid(conn)
    _next_request(conn)
    with mock.patch.object(conn, "is_usable", wraps=conn.is_usable) as asked:
        _backend_pid(conn)
    assert asked.call_count == 0


def test_a_connection_idle_longer_than_it_is_trusted_is_asked_over_the_wire(conn, monkeypatch):
    _backend_pid(conn)
    monkeypatch.setattr(base, "QUIET_TRUST_SECONDS", 0.05)
    time.sleep(0.1)
    _next_request(conn)
    with mock.patch.object(conn, "is_usable", wraps=conn.is_usable) as asked:
        _backend_pid(conn)
    assert asked.call_count == 1
