"""Counting ICWS calls for ``dashboard_icws_calls_total`` without touching ``icws_client``.

The client logs every session call at DEBUG on the ``icws_client`` logger as
``"%s -> %s in %.1f ms" % (what, status, ms)``. ``IcwsCallCounter`` (a logging handler, wired in
``settings.LOGGING``) adds each one to an in-process tally; ``icws_calls_flush`` adds the tally to
``ops.IcwsCallCount`` rows with ``F()`` updates. Celery workers flush after every task
(``OpsConfig.ready``), web processes when ``/metrics`` is scraped. The database is the one place
every web and worker process on every host can add to, and the counts survive restarts.

Why not write from the handler itself: a log call can happen inside a transaction (the row lock
would serialise workers until commit) or where the database is off limits (tests of the
framework-free client). Flushing at task end happens outside both.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter

CALL_MESSAGE = "%s -> %s in %.1f ms"  # icws_client.client.IcwsClient._send_session
_SESSION_PREFIX = "/icws/{sessionId}"
# Path parts that are ids: one label value per user would make the series unbounded.
_ID_PATHS = [(re.compile(r"^(/status/user-statuses/)[^/]+$"), r"\1{userId}")]

# What the client logs instead of a status for a call that got no answer.
NO_ANSWER = ("timeout", "no-connection")

_lock = threading.Lock()
_pending: Counter[tuple[str, str, str]] = Counter()

log = logging.getLogger(__name__)


def call_key(what: str, status: object) -> tuple[str, str, str] | None:
    """``("GET", "/status/status-messages", "200")`` from the client's ``what`` and status."""
    method, _, path = str(what).partition(" ")
    if not method or not path:
        return None
    path = path.removeprefix(_SESSION_PREFIX) or "/"
    for pattern, template in _ID_PATHS:
        path = pattern.sub(template, path)
    code = str(status)
    if not (code.isdigit() or code in NO_ANSWER):
        return None
    return method[:10], path[:200], code


class IcwsCallCounter(logging.Handler):
    """Tallies the ICWS client's per-call log lines in this process (see the module docstring)."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg != CALL_MESSAGE or not isinstance(record.args, tuple):
            return
        if len(record.args) != 3:
            return
        key = call_key(record.args[0], record.args[1])
        if key is not None:
            with _lock:
                _pending[key] += 1


def icws_calls_pending() -> dict[tuple[str, str, str], int]:
    with _lock:
        return dict(_pending)


def icws_calls_flush() -> None:
    """Add this process's tally to the shared counts; what could not be written stays pending."""
    from django.db import DatabaseError

    with _lock:
        pending = dict(_pending)
        _pending.clear()
    done: list[tuple[str, str, str]] = []
    try:
        for key, count in pending.items():
            _add(key, count)
            done.append(key)
    except DatabaseError:
        with _lock:
            for key, count in pending.items():
                if key not in done:
                    _pending[key] += count
        raise


def _add(key: tuple[str, str, str], count: int) -> None:
    from django.db import IntegrityError, transaction
    from django.db.models import F

    from dashboard.ops.models import IcwsCallCount

    method, path, status = key
    rows = IcwsCallCount.objects.filter(method=method, path=path, status=status)
    if rows.update(count=F("count") + count):
        return
    try:
        with transaction.atomic():
            IcwsCallCount.objects.create(method=method, path=path, status=status, count=count)
    except IntegrityError:  # another process created the row meanwhile
        rows.update(count=F("count") + count)


def flush_after_task(**kwargs: object) -> None:
    """Celery ``task_postrun`` receiver: the worker's tally goes to the database after each task."""
    from django.db import DatabaseError

    try:
        icws_calls_flush()
    except DatabaseError as exc:  # kept for the next flush; never fail the task for a metric
        log.warning("Could not store ICWS call counts: %s", exc)
