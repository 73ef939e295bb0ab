"""``/readyz`` without tying up web workers: one background probe at a time, its answer cached.

Each check has its own short budget (``READYZ_TIMEOUT``), but a probe still takes up to three of
them, and an orchestrator (or anyone: the status is public) may call it often. Run inline, two
calls against a trickling ICWS server held two web workers for the whole probe each, and
``/healthz`` waited behind them. Here a request starts the probe only if none is running and the
last answer is older than ``READYZ_CACHE_SECONDS``; it then waits at most ``READYZ_TIMEOUT`` for
it, and otherwise answers with the last known result (or, before the first one, "not ready:
probe still running"). Concurrent callers share the probe in flight.

The cache is per process and keyed by what the checks connect to, so a settings change (a test,
a switchover to another ICWS host is not one: the ICWS check follows the shared client) never
answers with another configuration's result.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import connections

from dashboard.ops import services

_lock = threading.Lock()
_results: dict[tuple, tuple[float, services.Readiness]] = {}
_running: dict[tuple, threading.Event] = {}


def _key() -> tuple:
    db = settings.DATABASES["default"]
    return (
        settings.ICWS_BASE_URL,
        settings.CELERY_BROKER_URL,
        db.get("HOST"),
        db.get("NAME"),
        settings.READYZ_TIMEOUT,
    )


def readiness() -> services.Readiness:
    """The cached checks, with the listener's summary read now (one local row, and advisory)."""
    checks = _checks()
    return services.Readiness(checks=checks, listener=services.listener_summary())


def _checks() -> dict:
    key = _key()
    ttl = settings.READYZ_CACHE_SECONDS
    with _lock:
        cached = _results.get(key)
        if cached is not None and time.monotonic() - cached[0] < ttl:
            return cached[1].checks
        done = _running.get(key)
        if done is None:
            done = _running[key] = threading.Event()
            threading.Thread(target=_probe, args=(key, done), daemon=True, name="readyz").start()
    done.wait(settings.READYZ_TIMEOUT)
    with _lock:
        cached = _results.get(key)
    if cached is not None:
        return cached[1].checks
    return {"probe": {"ok": False, "error": "readiness probe still running", "ms": None}}


def _probe(key: tuple, done: threading.Event) -> None:
    try:
        report = services.readiness_check()
    except Exception as exc:  # never leave the event unset: callers would wait every time
        report = services.Readiness(
            checks={"probe": {"ok": False, "error": type(exc).__name__, "ms": None}}
        )
    finally:
        connections.close_all()  # this thread's own connections; nothing else uses them
    with _lock:
        _results[key] = (time.monotonic(), report)
        _running.pop(key, None)
    done.set()
