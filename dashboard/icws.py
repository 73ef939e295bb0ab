"""The one place that builds the ICWS client from settings (one session per process)."""

from __future__ import annotations

import os
import threading

from django.conf import settings

from icws_client import IcwsClient

_lock = threading.Lock()
_client: IcwsClient | None = None
_client_pid: int | None = None


def get_client() -> IcwsClient:
    """The process's shared client; a forked worker child builds its own (sockets don't fork)."""
    global _client, _client_pid
    with _lock:
        if _client is None or _client_pid != os.getpid():
            _client = IcwsClient(
                settings.ICWS_BASE_URL,
                settings.ICWS_USER,
                settings.ICWS_PASSWORD,
                application_name=settings.ICWS_APPLICATION_NAME,
                language=settings.ICWS_LANGUAGE,
                timeout=settings.ICWS_TIMEOUT,
            )
            _client_pid = os.getpid()
        return _client


def reset_client() -> None:
    """Forget the shared client (tests, settings changes)."""
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
