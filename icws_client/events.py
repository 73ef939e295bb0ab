"""Reading the ICWS message queue as server-sent events (REF 5: ``Accept: text/event-stream``).

``EventStream`` yields each message (a dict) and ``PING`` for each ``:ping`` comment, so a reader
knows the stream is alive. A read that sees nothing for ``read_timeout`` seconds, a closed
stream or any transport error raises ``IcwsConnectionError``; a non-2xx answer raises the typed
error for its status (a 401: the session is gone).
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import requests
import urllib3.exceptions

from .exceptions import IcwsConnectionError, IcwsProtocolError, error_for_status

PING: dict[str, Any] = {"__type": "ping"}  # yielded for ":ping" comments (not a message)
MAX_EVENT_BYTES = 16 * 1024 * 1024


class EventStream:
    """One open ``GET messaging/messages`` event stream; ``close()`` ends it (any thread)."""

    def __init__(self, response: requests.Response, what: str) -> None:
        self._response = response
        self._what = what
        if not 200 <= response.status_code < 300:
            try:
                body = response.json()
            except ValueError:
                body = None
            response.close()
            raise error_for_status(response.status_code, body, request=what)
        content_type = response.headers.get("Content-Type", "").lower()
        if not content_type.startswith("text/event-stream"):
            response.close()
            raise IcwsProtocolError(f"{what} answered {content_type!r}, not text/event-stream")

    def close(self) -> None:
        """End the stream; a read blocked in another thread returns at once (the socket is shut
        down: closing the response alone would leave that read waiting for the next byte)."""
        connection = getattr(self._response.raw, "connection", None)
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._response.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        buffer = b""
        data: list[bytes] = []
        while True:
            chunk = self._read()
            buffer += chunk
            if len(buffer) > MAX_EVENT_BYTES:
                raise IcwsProtocolError(f"{self._what}: an event larger than {MAX_EVENT_BYTES}")
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                line = raw.rstrip(b"\r")
                if not line:  # end of an event
                    if data:
                        yield self._decode(b"\n".join(data))
                        data = []
                elif line.startswith(b":"):
                    yield PING
                elif line.startswith(b"data:"):
                    data.append(line[5:].removeprefix(b" "))
                # other fields (event:, id:, retry:) carry nothing ICWS uses

    def _read(self) -> bytes:
        try:
            chunk = self._response.raw.read1(65536)
        except (urllib3.exceptions.HTTPError, OSError, ValueError, AttributeError) as exc:
            raise IcwsConnectionError(f"{self._what}: the event stream failed: {exc}") from None
        if not chunk:
            raise IcwsConnectionError(f"{self._what}: the server closed the event stream")
        return chunk

    def _decode(self, data: bytes) -> dict[str, Any]:
        try:
            message = json.loads(data)
        except (ValueError, RecursionError):
            raise IcwsProtocolError(f"{self._what}: an event that is not JSON") from None
        if not isinstance(message, dict):
            raise IcwsProtocolError(f"{self._what}: an event that is not a JSON object")
        return message
