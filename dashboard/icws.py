"""The one place that builds the ICWS client from settings (one session per process).

Every client counts its calls for ``/metrics`` through the ``on_call`` hook
(``dashboard/ops/icws_calls.py``) and fails over only to ``ICWS_ALTERNATE_HOSTS``.
"""

from __future__ import annotations

import os
import threading

from django.conf import settings

from dashboard.ops.icws_calls import record_call
from icws_client import IcwsClient

_lock = threading.Lock()
_client: IcwsClient | None = None
_client_pid: int | None = None


def get_client() -> IcwsClient:
    """The process's shared client; a forked worker child builds its own (sockets don't fork)."""
    global _client, _client_pid
    with _lock:
        if _client is None or _client_pid != os.getpid():
            _client = new_client()
            _client_pid = os.getpid()
        return _client


def new_client(application_suffix: str = "") -> IcwsClient:
    """A client of its own (the listener keeps one session apart from the jobs')."""
    return IcwsClient(
        settings.ICWS_BASE_URL,
        settings.ICWS_USER,
        settings.ICWS_PASSWORD,
        application_name=settings.ICWS_APPLICATION_NAME + application_suffix,
        language=settings.ICWS_LANGUAGE,
        timeout=settings.ICWS_TIMEOUT,
        allowed_alternate_hosts=settings.ICWS_ALTERNATE_HOSTS,
        on_call=record_call if settings.METRICS_ENABLED else None,
    )


def reset_client() -> None:
    """Forget the shared client (tests, settings changes)."""
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
