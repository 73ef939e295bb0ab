"""HTTP plumbing: the request pipeline (``App``), the request handler and the threaded server.

The behaviour it implements is specified in the package docstring (``icws_client/simulator``).
Pipeline per request: route -> "down" fault -> body errors -> injected latency / 503 / status ->
404 / 405 -> session authentication -> endpoint. Every /icws request is counted for /sim/calls.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import re
import socket
import threading
import time
from collections import Counter
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from . import icws_api, sim_api
from .dialer import Allocator
from .errors import IcwsError, fault_error, not_found, unauthorized
from .faults import Faults
from .routing import Match, Request, Response, Router
from .sessions import Session, SessionStore
from .state import World

log = logging.getLogger("icws_client.simulator")

CONTENT_TYPE = "application/vnd.inin.icws+json; charset=utf-8"
MAX_BODY_BYTES = 1024 * 1024
MAX_DISCARD_BYTES = 16 * 1024 * 1024  # drained (read and dropped) before closing, at most
LINGER_SECONDS = 2.0
MAX_QUERY_FIELDS = 100
_SESSION_SEGMENT = re.compile(r"^/icws/(?!connection(?:/|$))[^/]+")


class App:
    """Everything behind the HTTP layer: world, sessions, faults, allocator, request counters."""

    def __init__(
        self,
        seed: dict[str, Any],
        *,
        apply_delay: float,
        session_idle_timeout: float,
        service_user: str,
        service_password: str,
        dialer_version: int,
    ) -> None:
        self.seed = seed
        self.service_user = service_user
        self._service_password = service_password
        self.dialer_version = dialer_version
        self.world = World(seed, service_user)
        self.sessions = SessionStore(session_idle_timeout)
        self.faults = Faults()
        self.allocator = Allocator(self.world, self.sessions, apply_delay)
        self.router = Router(icws_api.ROUTES + sim_api.ROUTES)
        self.stopping = threading.Event()  # wakes injected-latency sleeps on stop
        self._counts: Counter[tuple[str, str, int]] = Counter()
        self._counts_lock = threading.Lock()

    # -- used by endpoints ----------------------------------------------------------------

    def feature_versions(self) -> dict[str, int]:
        return {
            "connection": 11,
            "messaging": 2,
            "dialer": self.dialer_version,
            "configuration": 20,
            "status": 4,
        }

    def check_credentials(self, user_id: str, password: str) -> dict[str, Any] | None:
        """The user record if ``password`` is right for ``user_id``, else None."""
        if user_id == self.service_user:
            expected = self._service_password
        else:
            expected = self.world.users.get(user_id, {}).get("password")
        if not expected or not hmac.compare_digest(password.encode(), expected.encode()):
            return None
        return self.world.users[user_id]

    def set_faults(self, data: Any) -> None:
        if self.faults.update(data):
            self.sessions.clear()

    def change_user_status(
        self, user_id: str, status_id: str, on_phone: bool | None, logged_in: bool | None
    ) -> dict[str, Any]:
        status = self.world.set_user_status(user_id, status_id, on_phone, logged_in)
        for session in self.sessions.status_subscribers(user_id):
            self.sessions.push(
                session,
                {
                    "__type": icws_api.USER_STATUS_MESSAGE,
                    "isDelta": True,
                    "userStatusList": [icws_api.filter_status(status, session.status_properties)],
                },
            )
        return status

    def reset(self) -> None:
        self.allocator.clear()
        self.world.load(self.seed, self.service_user)
        self.sessions.clear()
        self.faults.clear()
        self.clear_call_counts()

    def call_counts(self) -> list[dict[str, Any]]:
        with self._counts_lock:
            items = sorted(self._counts.items())
        return [{"method": m, "path": p, "status": s, "count": n} for (m, p, s), n in items]

    def clear_call_counts(self) -> None:
        with self._counts_lock:
            self._counts.clear()

    # -- the pipeline ---------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        """Answer ``req``; never raises. /icws requests are counted by route template."""
        match = Match(None, {})
        try:
            match = self.router.match(req.path)
            response = self._handle(req, match)
        except IcwsError as exc:
            response = Response(exc.status, exc.body(), exc.headers)
        except UnicodeDecodeError:
            response = _error_response(IcwsError(400, None, "The path is not valid UTF-8."))
        except Exception:
            log.exception("unexpected error in %s %s", req.method, match.template)
            response = _error_response(
                IcwsError(500, None, "The simulator failed unexpectedly; see its log.")
            )
        if req.path == "/icws" or req.path.startswith("/icws/"):
            key = (req.method, match.template, 0 if response.drop else response.status)
            with self._counts_lock:
                self._counts[key] += 1
        return response

    def _handle(self, req: Request, match: Match) -> Response:
        route = match.route
        if req.path.startswith("/icws/"):
            decision = self.faults.decide(
                req.path,
                session_scoped=route is not None and route.session,
                connect=route is not None and route.template == "/icws/connection",
                host=req.host,
            )
            if decision.down:
                return Response(0, drop=True)
            if req.body_error is not None:
                raise req.body_error
            if decision.latency:
                self.stopping.wait(decision.latency)
            if decision.connect_503 is not None:
                raise IcwsError(
                    503,
                    "error.server.notAcceptingConnections",
                    "The session manager is not accepting connections; use an alternate host.",
                    extra={"alternateHostList": list(decision.connect_503)},
                )
            if decision.status is not None:
                raise fault_error(decision.status, decision.error_id, decision.message)
        elif req.body_error is not None:
            raise req.body_error
        if route is None:
            raise not_found(f"There is no resource at {_mask(req.path)}.")
        handler = route.methods.get(req.method)
        if handler is None:
            raise IcwsError(
                405,
                "error.request.accessDenied.httpMethodNotAllowed",
                f"{req.method} is not allowed here; allowed: {', '.join(route.methods)}.",
                headers={"Allow": ", ".join(route.methods)},
            )
        if route.session:
            req.session = self._authenticate(req, match.params["sessionId"], route.csrf_optional)
        return handler(self, req, match.params)

    def _authenticate(self, req: Request, session_id: str, csrf_optional: bool) -> Session:
        session = self.sessions.find(session_id)
        if session is None:
            raise unauthorized(
                1,
                "error.request.invalidSessionId",
                "This request requires a session ID. The session is unknown or has expired.",
            )
        token = req.header("ININ-ICWS-CSRF-Token")
        if not (csrf_optional and token is None) and not session.csrf_matches(token):
            raise unauthorized(
                2, "error.request.invalidCsrfToken", "An authentication token was expected."
            )
        if not session.cookie_matches(req.cookie(session.cookie_name)):
            raise unauthorized(
                2,
                "error.request.invalidSessionCookie",
                "An authentication token was expected: the session cookie is missing or wrong.",
            )
        self.sessions.touch(session)
        return session


def _error_response(exc: IcwsError) -> Response:
    return Response(exc.status, exc.body(), exc.headers)


def _mask(path: str) -> str:
    """The path with its session id replaced, for logs and messages."""
    return _SESSION_SEGMENT.sub("/icws/{sessionId}", path, count=1)


def _host_name(host_header: str | None) -> str:
    host = (host_header or "").strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ICWS-Simulator/1.0"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    disable_nagle_algorithm = True  # no 40 ms stall between header and body writes
    timeout = 30  # seconds a keep-alive connection may sit idle (or a body may trickle in)
    server: Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        started = time.monotonic()
        path, _, query_string = self.path.partition("?")
        query_string = query_string.partition("#")[0]
        request_error = None
        try:
            query = dict(parse_qsl(query_string, max_num_fields=MAX_QUERY_FIELDS))
        except ValueError:
            query = {}
            request_error = IcwsError(
                400, "error.request.invalidParameter", "The query string has too many fields."
            )
        try:
            raw, body_error = self._read_body()
        except (TimeoutError, ConnectionError):
            self.close_connection = True
            return
        req = Request(
            method=self.command,
            path=path,
            query=query,
            headers=self.headers,
            host=_host_name(self.headers.get("Host")),
            raw_body=raw,
            body_error=request_error or body_error,
        )
        response = self.server.app.handle(req)
        if response.drop:
            self.close_connection = True
            log.info("%s %s dropped (server down) %.1fms", self.command, _mask(path), _ms(started))
            return
        self._write(response)
        log.info("%s %s %s %.1fms", self.command, _mask(path), response.status, _ms(started))
        if self.close_connection:
            self._linger()

    def _read_body(self) -> tuple[bytes, IcwsError | None]:
        """(body, error); an error closes the connection after the answer."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return b"", IcwsError(411, None, "Send a Content-Length; chunked bodies are refused.")
        values = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not values:
            return b"", None
        value = values.pop()
        if values or not value.isascii() or not value.isdigit() or len(value) > 15:
            self.close_connection = True
            error = IcwsError(
                400, "error.request.invalidContentLength", "The Content-Length header is invalid."
            )
            return b"", error
        length = int(value)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            error = IcwsError(
                400,
                "error.request.tooLarge",
                f"The request body ({length} bytes) is larger than {MAX_BODY_BYTES} bytes.",
            )
            return b"", error
        raw = self.rfile.read(length)
        if len(raw) < length:
            self.close_connection = True
            error = IcwsError(400, None, "The request body is shorter than its Content-Length.")
            return b"", error
        return raw, None

    def _linger(self) -> None:
        """Lingering close: end our side, then discard (never keep) what the client still sends.

        Closing with unread input makes the kernel send a reset, which can destroy the answer
        before the client reads it (an oversized body is still arriving, say).
        """
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(LINGER_SECONDS)
            remaining = MAX_DISCARD_BYTES
            while remaining > 0:
                chunk = self.rfile.read1(65536)
                if not chunk:
                    break
                remaining -= len(chunk)
        except OSError:
            pass

    def _write(self, response: Response) -> None:
        payload = b""
        if response.body is not None:
            payload = json.dumps(response.body, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_response(response.status)
        if payload:
            self.send_header("Content-Type", CONTENT_TYPE)
        if response.status not in (204, 304):
            self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)
        self.wfile.flush()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors found by http.server (bad request line, 414, 431, 501): JSON too."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        error = IcwsError(code, None, message or phrase)
        if getattr(self, "command", None) is None:
            self.command = ""
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # else http.server writes no status line
        try:
            self._write(Response(code, error.body(), error.headers))
        except OSError:
            return
        self._linger()
        log.info("%s %s %s (protocol error)", self.command or "-", "-", code)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass  # _dispatch logs one line per request, with timing

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http.server: " + format, *args)


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() closes live connections itself instead of joining them
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def track(self, connection: socket.socket, *, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)
