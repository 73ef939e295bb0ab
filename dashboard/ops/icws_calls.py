"""Counting ICWS calls for ``dashboard_icws_calls_total`` through the client's ``on_call`` hook.

``dashboard/icws.py`` builds every client with ``on_call=record_call``: the client reports each
HTTP request it makes (connect, logout, features and every session call, retries included; see
``icws_client/hooks.py``) and ``record_call`` adds it to an in-process tally keyed by method, path
template and status (or ``timeout`` / ``no-connection`` / ``protocol`` for calls that got no usable
answer). ``icws_calls_flush`` adds the tally to ``ops.IcwsCallCount`` rows with ``F()`` updates.
Celery workers flush after a task at most every ``ICWS_CALLS_FLUSH_SECONDS`` and when the
worker process ends (``OpsConfig.ready``), web processes when ``/metrics`` is scraped. Not after
every task: the rows are shared by every worker, and one ``UPDATE`` of the same hot rows per job
serialised the workers on their row locks. The database is the one place every web and worker
process on every host can add to, and the counts survive restarts.

Why not write from the hook itself: a call can happen inside a transaction (the row lock would
serialise workers until commit) or where the database is off limits. Flushing at task end happens
outside both.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter

from icws_client import IcwsCall

_SESSION_PREFIX = "/icws/{sessionId}"
# The client already sends templates; this guards the label set against a path that is not one
# (one label value per user would make the series unbounded).
_ID_PATHS = [(re.compile(r"^(/status/user-statuses/)[^/{][^/]*$"), r"\1{userId}")]

_lock = threading.Lock()
_pending: Counter[tuple[str, str, str]] = Counter()

log = logging.getLogger(__name__)


def call_key(call: IcwsCall) -> tuple[str, str, str]:
    """``("GET", "/status/status-messages", "200")``: session calls without their prefix."""
    path = call.path.removeprefix(_SESSION_PREFIX) or "/"
    for pattern, template in _ID_PATHS:
        path = pattern.sub(template, path)
    return call.method[:10], path[:200], call.outcome[:20]


def record_call(call: IcwsCall) -> None:
    """The ``on_call`` hook: add one call to this process's tally (see the module docstring)."""
    key = call_key(call)
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


# Never: the first task's end flushes. (0.0 would hold the first flush back until the clock,
# the time since boot, passed ICWS_CALLS_FLUSH_SECONDS: an hour on a host booted just before.)
NEVER = -math.inf
_last_flush = NEVER


def flush_periodically(**kwargs: object) -> None:
    """Celery ``task_postrun`` receiver: flush if ``ICWS_CALLS_FLUSH_SECONDS`` passed since the
    last flush (the tally waits in memory meanwhile; ``worker_process_shutdown`` flushes the
    rest). A crash loses at most that many seconds of counts: a metric, not a record."""
    import time

    from django.conf import settings

    global _last_flush
    now = time.monotonic()
    if now - _last_flush < settings.ICWS_CALLS_FLUSH_SECONDS:
        return
    _last_flush = now
    flush_after_task()
