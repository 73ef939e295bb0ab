"""HTTP plumbing: the request handler and the threaded server in front of an ``App``.

The behaviour it implements is specified in the package docstring (``icws_client/simulator``); the
pipeline behind it is ``app.py``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from .app import App, mask
from .errors import ErrorAnswer
from .routing import Request, Response

log = logging.getLogger("icws_client.simulator")

CONTENT_TYPE = "application/vnd.inin.icws+json; charset=utf-8"
MAX_BODY_BYTES = 1024 * 1024
MAX_DISCARD_BYTES = 16 * 1024 * 1024  # drained (read and dropped) before closing, at most
LINGER_SECONDS = 2.0
MAX_QUERY_FIELDS = 100
TRICKLE_FILLER = {"trickle": "." * 48}


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
            request_error = ErrorAnswer(
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
            log.info("%s %s dropped (server down) %.1fms", self.command, mask(path), _ms(started))
            return
        self._write(response)
        log.info("%s %s %s %.1fms", self.command, mask(path), response.status, _ms(started))
        if self.close_connection:
            self._linger()

    def _read_body(self) -> tuple[bytes, ErrorAnswer | None]:
        """(body, error); an error closes the connection after the answer."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return b"", ErrorAnswer(411, None, "Send a Content-Length; chunked bodies are refused.")
        values = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not values:
            return b"", None
        value = values.pop()
        if values or not value.isascii() or not value.isdigit() or len(value) > 15:
            self.close_connection = True
            error = ErrorAnswer(
                400, "error.request.invalidContentLength", "The Content-Length header is invalid."
            )
            return b"", error
        length = int(value)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            error = ErrorAnswer(
                400,
                "error.request.tooLarge",
                f"The request body ({length} bytes) is larger than {MAX_BODY_BYTES} bytes.",
            )
            return b"", error
        raw = self.rfile.read(length)
        if len(raw) < length:
            self.close_connection = True
            error = ErrorAnswer(400, None, "The request body is shorter than its Content-Length.")
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
        if response.stream is not None:
            self._stream(response)
            return
        payload = b""
        body = response.body
        if body is None and response.trickle and response.status not in (204, 304):
            body = TRICKLE_FILLER  # something to trickle (a choice: see the package docstring)
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
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
            if response.trickle:
                self._trickle(payload, response.trickle)
                return
            self.wfile.write(payload)
        self.wfile.flush()

    def _stream(self, response: Response) -> None:
        """Server-sent events: no Content-Length, the body ends when the connection closes."""
        assert response.stream is not None
        self.close_connection = True
        self.send_response(response.status)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()

        def write(data: bytes) -> None:
            self.wfile.write(data)
            self.wfile.flush()

        try:
            write(b"")
            response.stream(write)
        except OSError:  # the client went away
            pass

    def _trickle(self, payload: bytes, interval: float) -> None:
        """The "trickle" fault: headers now, then the body one byte every ``interval`` seconds."""
        stopping = self.server.app.stopping
        try:
            for i in range(len(payload)):
                self.wfile.write(payload[i : i + 1])
                self.wfile.flush()
                if i + 1 < len(payload) and stopping.wait(interval):
                    break
        except OSError:  # the client gave up: what it is meant to do
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors found by http.server (bad request line, 414, 431, 501): JSON too."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        error = ErrorAnswer(code, None, message or phrase)
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
