"""``Session``: one ICWS session (connect, tokens, reconnect, hosts) and every HTTP call's way out.

Section numbers (``REF 2.1``) point into ``shared/icws/REFERENCE.md``.

Connect
    ``connect()`` posts the typed ``icAuthConnectionRequestSettings`` body with ``Accept-Language``
    and keeps the session id, CSRF token and session cookie of the 201 answer; every session call
    sends all three (REF 2.3). Connecting is lazy (the first call) and idempotent.

Reconnect
    On a **401 or 410** a call reconnects once and is repeated once; a second 401/410 is raised
    (REF 6: a 401 means the request was not processed, so repeating it cannot apply a move twice).
    Threads sharing the session reconnect once between them (``forget`` drops only the session
    that failed).

Resume
    ``adopt`` takes over a session another process opened (its id, CSRF token, cookie and host);
    such a session holds no password, so it never reconnects: a 401/410 is raised as it came.

Hosts
    Which host to use, which alternates to try and which are allowed is ``hosts.py``.

"A 202 is the answer"
    A write whose status line arrived before the deadline is answered by that status even if the
    rest of the body never came (``_http``: ``IcwsTimeout(status_received=True)``): for a 2xx it
    returns a ``Reply`` with ``complete=False``, so allocate-agents reports the move accepted and
    the engine never sends it again. Only a write whose status never arrived raises
    ``IcwsTimeout`` (outcome unknown).

Every HTTP request goes through ``_send``, which reports it to the ``on_call`` hook (``hooks.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import quote

import requests

from . import _http, hooks
from .exceptions import (
    IcwsConnectionError,
    IcwsError,
    IcwsProtocolError,
    IcwsTimeout,
    IcwsUnauthorized,
    IcwsUnavailable,
    error_for_status,
)
from .hosts import Hosts
from .models import Connection

log = logging.getLogger("icws_client")

CONNECT_TYPE = "urn:inin.com:connection:icAuthConnectionRequestSettings"
SESSION_PREFIX = "/icws/{sessionId}"


class Session:
    """The connection state one ``IcwsClient`` shares between its threads."""

    def __init__(
        self,
        hosts: Hosts,
        user_id: str,
        password: str,
        *,
        application_name: str,
        language: str,
        timeout: float,
        http_session: requests.Session | None = None,
        on_call: hooks.OnCall | None = None,
    ) -> None:
        self.hosts = hosts
        self._user_id = user_id
        self._password = password
        self.application_name = application_name
        self.language = language
        self.timeout = timeout
        self.on_call = on_call
        self._http = http_session or _http.new_session()
        self._owns_http = http_session is None
        if http_session is not None:  # the overall deadline needs our adapter on it too
            _http.prepare(http_session)
        self._lock = threading.RLock()
        self._conn: Connection | None = None
        self.cookie = ""

    @property
    def connection(self) -> Connection | None:
        return self._conn

    def connect(self) -> Connection:
        with self._lock:
            if self._conn is None:
                self._conn = self._open()
            return self._conn

    def close(self) -> None:
        """Log out (``DELETE /icws/{sessionId}/connection``); safe to call twice.

        An expired session counts as closed; a transport error is logged and the local session
        forgotten all the same, since the server expires idle sessions anyway.
        """
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    self._session_send(conn, "DELETE", "/connection")
                except IcwsError as exc:
                    log.info("ICWS logout did not complete: %s", exc)
            if self._owns_http:
                self._http.close()
                self._http = _http.new_session()

    def adopt(self, conn: Connection, cookie: str, host: str) -> None:
        """Use a session opened elsewhere (``IcwsClient.resume``): its tokens, cookie and host.

        Without a password (how a resumed session is built) nothing reconnects: a 401 or 410 is
        the caller's to see, since only the user can open a new session.
        """
        with self._lock:
            self._conn = conn
            self.cookie = cookie
            self.hosts.current = host

    def forget(self, conn: Connection) -> None:
        """Drop ``conn`` unless another thread already replaced it (one reconnect, not two)."""
        with self._lock:
            if self._conn is conn:
                self._conn = None

    def call(
        self,
        method: str,
        template: str,
        *,
        args: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        write: bool = False,
    ) -> _http.Reply:
        """A session call (``template`` after ``/icws/{sessionId}``), reconnecting once on a 401
        or 410, or when the host could not be reached before anything was sent (failover)."""
        conn = self.connect()
        send = (method, template, args, params, headers, body, write)
        try:
            return self._session_send(conn, *send)
        except IcwsConnectionError as exc:
            if exc.sent or not self._password:  # acted on, maybe; or nothing to reconnect with
                raise
            log.warning("%s %s reached no server; reconnecting once", method, template)
        except IcwsError as exc:
            if exc.status not in (401, 410) or not self._password:
                raise
            log.info("ICWS answered %s to %s %s; reconnecting once", exc.status, method, template)
        self.forget(conn)
        return self._session_send(self.connect(), *send)

    def open_events(self, read_timeout: float) -> tuple[Connection, requests.Response]:
        """Open ``GET messaging/messages`` as server-sent events (REF 5) on a stream of its own.

        The stream is long-lived, so it goes around the overall deadline of ``_http`` (connect
        within ``timeout``, then each read within ``read_timeout``) on its own HTTP session. No
        reconnect here: the caller sees the 401 and resubscribes after reconnecting.
        """
        conn = self.connect()
        headers = {
            "Accept": "text/event-stream",
            "Accept-Language": self.language,
            "ININ-ICWS-CSRF-Token": conn.csrf_token,
            "Cookie": self.cookie,
        }
        url = f"{self.hosts.url(self.hosts.current)}/icws/{quote(conn.session_id, safe='')}"
        stream = requests.Session()
        stream.trust_env = False
        try:
            response = stream.get(
                url + "/messaging/messages",
                headers=headers,
                stream=True,
                timeout=(self.timeout, read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            stream.close()
            raise IcwsConnectionError(f"GET messaging/messages (events) failed: {exc}") from None
        return conn, response

    def call_anonymous(self, method: str, path: str) -> _http.Reply:
        """A call that needs no session (``/icws/connection/features``); any 2xx answers."""
        reply = self._send(
            self.hosts.current, method, path, headers={"Accept-Language": self.language}
        )
        if 200 <= reply.status < 300:
            return reply
        raise error_for_status(reply.status, reply.body, request=f"{method} {path}")

    # -- internals ----------------------------------------------------------------------------

    def _session_send(
        self,
        conn: Connection,
        method: str,
        template: str,
        args: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        write: bool = False,
    ) -> _http.Reply:
        all_headers = {
            "Accept-Language": self.language,
            "ININ-ICWS-CSRF-Token": conn.csrf_token,
            "Cookie": self.cookie,
        }
        all_headers.update(headers or {})
        reply = self._send(
            self.hosts.current,
            method,
            SESSION_PREFIX + template,
            args={"sessionId": conn.session_id, **(args or {})},
            headers=all_headers,
            params=params,
            body=body,
            write=write,
        )
        if 200 <= reply.status < 300:
            return reply
        raise error_for_status(
            reply.status, reply.body, request=f"{method} {SESSION_PREFIX}{template}"
        )

    def _send(
        self,
        host: str,
        method: str,
        template: str,
        *,
        args: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        body: Any = None,
        write: bool = False,
    ) -> _http.Reply:
        """One HTTP request, reported to ``on_call``; ``template`` has ``{name}`` for ``args``."""
        path = template
        for name, value in (args or {}).items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        what = f"{method} {template}"
        started = time.monotonic()
        status: int | None = None
        failure: str | None = None
        try:
            reply = _http.send(
                self._http,
                method,
                self.hosts.url(host) + path,
                timeout=self.timeout,
                what=what,
                headers=headers,
                params=params,
                body=body,
            )
            status = reply.status
            return reply
        except IcwsTimeout as exc:
            status = exc.status
            if write and exc.status_received and exc.status and 200 <= exc.status < 300:
                log.warning(
                    "%s: HTTP %s arrived, the body did not; taken as the answer", what, status
                )
                return _http.Reply(status=exc.status, headers={}, body=None, complete=False)
            failure = hooks.TIMEOUT
            raise
        except IcwsConnectionError:
            failure = hooks.NO_CONNECTION
            raise
        except IcwsProtocolError as exc:
            status, failure = exc.status, hooks.PROTOCOL
            raise
        finally:
            self._report(method, template, status, failure, time.monotonic() - started, host)

    def _report(
        self,
        method: str,
        template: str,
        status: int | None,
        failure: str | None,
        seconds: float,
        host: str,
    ) -> None:
        if self.on_call is None:
            return
        try:
            self.on_call(hooks.IcwsCall(method, template, status, failure, seconds, host))
        except Exception:  # a metric must never break a call
            log.exception("the ICWS on_call hook failed")

    def _open(self) -> Connection:
        """``POST /icws/connection`` on the current host, then the alternates ``hosts`` allows."""
        if not self._password:
            raise IcwsUnauthorized("The ICWS session has ended; the user must sign in again")
        body = {
            "__type": CONNECT_TYPE,
            "applicationName": self.application_name,
            "userID": self._user_id,
            "password": self._password,
        }
        attempt = self.hosts.connect_attempt()
        for host in attempt:
            try:
                reply = self._send(
                    host,
                    "POST",
                    "/icws/connection",
                    headers={"Accept-Language": self.language},
                    params={"include": "features,version"},
                    body=body,
                )
            except IcwsConnectionError as exc:  # a timeout too: a connect moves nothing
                attempt.failed(host, exc)
                continue
            if reply.status == 201:
                conn = Connection.from_json(reply.body)
                self.cookie = "; ".join(f"{k}={v}" for k, v in reply.cookies.items())
                self.hosts.connected(host, conn.alternate_hosts)
                return conn
            error = error_for_status(reply.status, reply.body, request="POST /icws/connection")
            if not isinstance(error, IcwsUnavailable):
                raise error
            attempt.unavailable(host, error)
        raise attempt.give_up()
