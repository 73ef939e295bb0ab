"""Readiness checks behind ``/readyz``: database, broker and ICWS, each with a short timeout.

Each check answers ``{"ok": bool, "ms": float, ...}``; a failed one says why in ``error``, passed
through ``logformat.redact`` so no password or token reaches the probe's caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import kombu
from django.conf import settings
from django.db import DatabaseError, connection
from kombu.exceptions import KombuError

from dashboard import icws
from dashboard.ops import icws_calls
from dashboard.ops.logformat import redact
from dashboard.presence.selectors import listener_health
from icws_client import IcwsClient, IcwsError


@dataclass
class Readiness:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The ICWS listener (dashboard.presence): advisory, in the detail only. A stale listener
    # makes presence stale, not the web process unready (restarting web would not help).
    listener: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check["ok"]]

    def as_json(self, *, detail: bool = True) -> dict[str, Any]:
        """The probe's answer; without ``detail`` only the status (the checks name the ICWS
        URL, the database and broker vendors and error texts: for operators, not the public)."""
        body: dict[str, Any] = {"status": "ok" if self.ok else "fail"}
        if not detail:
            return body
        body["checks"] = self.checks
        if self.listener is not None:
            body["listener"] = self.listener
        if not self.ok:
            body["failed"] = self.failed
        return body


def readiness_check() -> Readiness:
    """Run every check (all of them, even after a failure, so the answer names each problem)."""
    timeout = settings.READYZ_TIMEOUT
    return Readiness(
        checks={
            "database": _timed(check_database, DatabaseError),
            "broker": _timed(lambda: check_broker(timeout=timeout), KombuError, OSError),
            "icws": _timed(lambda: check_icws(timeout=timeout), IcwsError),
        },
        listener=listener_summary(),
    )


def listener_summary() -> dict[str, Any]:
    health = listener_health()
    return {
        "ok": health.ok,
        "status": health.status,
        "since": health.since.isoformat() if health.since else None,
        "last_event_at": health.last_event_at.isoformat() if health.last_event_at else None,
        "transport": health.transport,
        "agents": health.agents,
        "error": redact(health.last_error) if health.last_error else "",
    }


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_broker(*, timeout: float) -> dict[str, Any]:
    """Connect to ``CELERY_BROKER_URL`` (one retry, no back-off), then let go of the connection."""
    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {})
    with kombu.Connection(
        settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options
    ) as conn:
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, interval_max=0, timeout=timeout
        )
        return {"transport": conn.transport_cls}


def check_icws(*, timeout: float) -> dict[str, Any]:
    """``GET /icws/connection/features`` on the host the shared client uses now.

    A throwaway client: the shared one has the long ``ICWS_TIMEOUT`` and read retries, and this
    call needs no session, so no credentials are sent (the placeholders only satisfy the
    constructor).
    """
    try:
        base_url = icws.get_client().base_url  # may be an alternate host after a switchover
    except ValueError:  # no credentials configured: the system checks report that
        base_url = settings.ICWS_BASE_URL
    probe = IcwsClient(
        base_url,
        "readiness-probe",
        "not-sent",  # features() needs no session: nothing is sent
        language=settings.ICWS_LANGUAGE,
        timeout=timeout,
        read_retries=0,
        on_call=icws_calls.record_call,
    )
    try:
        versions = {f.feature_id: f.version for f in probe.features()}
    finally:
        probe.close()
    return {"url": base_url, "dialer": versions.get("dialer")}


def _timed(check: Callable[[], dict[str, Any]], *expected: type[BaseException]) -> dict[str, Any]:
    started = time.monotonic()
    try:
        result = {"ok": True, **check()}
    except expected as exc:
        result = {"ok": False, "error": redact(f"{type(exc).__name__}: {exc}")}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result
