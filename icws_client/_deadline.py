"""One overall deadline per HTTP request, which ``requests`` does not have.

``requests`` applies its timeout to connecting and to each socket read separately, so a server that
sends its headers and then one byte a second holds a call for as long as it likes. Here every
request is a ``Call`` with a monotonic deadline:

* connecting is bounded by the time left (``_http.send`` passes it as the connect timeout);
* a watchdog thread shuts the call's socket down when the deadline passes, which ends whatever
  read or write is blocked on it (headers trickling in, a body trickling in, a request body the
  server never reads); ``_http`` then reports a timeout, not a broken connection;
* the connection class below tells the call which socket it uses and when the request was fully
  sent, and the response class notes the status line the moment it arrives, so a caller knows
  whether the server answered at all (``Call.status``) even if the rest never came.

``install(session)`` mounts an adapter whose pools use these classes; ``_http.new_session`` calls
it. The current call is thread-local: one thread sends one request at a time.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import os
import socket
import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Call:
    """What one request has got to: its socket, whether it was sent, the status line, expiry."""

    __slots__ = ("_lock", "deadline", "done", "expired", "sent", "sock", "status")

    def __init__(self, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.sock: socket.socket | None = None
        self.sent = False
        self.status: int | None = None
        self.expired = False
        self.done = False
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def attach(self, sock: Any) -> None:
        with self._lock:
            self.sock = sock
            if self.expired:
                _shutdown(sock)

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            if self.sock is not None:
                _shutdown(self.sock)

    def finish(self) -> None:
        with self._lock:
            self.done = True


def _shutdown(sock: Any) -> None:
    # socket.socket.shutdown, not SSLSocket.shutdown: the TLS object must stay intact for the
    # thread that is blocked reading it; that thread sees end-of-file and gives up.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread per process expires calls in deadline order (started lazily, per fork)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Call]] = []
        self._seq = itertools.count()
        self._pid: int | None = None

    def watch(self, call: Call) -> None:
        with self._cond:
            if self._pid != os.getpid():  # first use, or a forked child (threads don't fork)
                self._heap.clear()
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="icws-deadlines", daemon=True).start()
            heapq.heappush(self._heap, (call.deadline, next(self._seq), call))
            if self._heap[0][2] is call:  # else the thread wakes earlier anyway: no thread switch
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][2].done:
                        heapq.heappop(self._heap)  # finished in time: forget it
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    if wait is not None and wait <= 0:
                        call = heapq.heappop(self._heap)[2]
                        break
                    self._cond.wait(wait)
            call.expire()


_watchdog = _Watchdog()


def start(timeout: float) -> Call:
    """Begin a call on this thread; pair with ``end``."""
    call = Call(timeout)
    _current.call = call
    _watchdog.watch(call)
    return call


def end(call: Call) -> None:
    call.finish()
    if getattr(_current, "call", None) is call:
        _current.call = None


def _this_call() -> Call | None:
    return getattr(_current, "call", None)


class _StatusNotingResponse(http.client.HTTPResponse):
    def _read_status(self) -> tuple[str, int, str]:
        version, status, reason = super()._read_status()
        call = _this_call()
        if call is not None and status != http.client.CONTINUE:
            call.status = status
        return version, status, reason


class _DeadlineMixin:
    response_class = _StatusNotingResponse
    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        call = _this_call()
        if call is not None:
            call.attach(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        call = _this_call()
        if call is not None and self.sock is not None:  # a kept-alive connection
            call.attach(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]
        if call is not None:
            call.sent = True


class _Connection(_DeadlineMixin, HTTPConnection):
    pass


class _TlsConnection(_DeadlineMixin, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _TlsConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TlsPool}


def install(session: requests.Session) -> None:
    session.mount("http://", _Adapter())
    session.mount("https://", _Adapter())
