"""The message queue (REF 5): short polling and server-sent events.

``GET /icws/{sid}/messaging/messages`` answers the queued messages as a JSON array and dequeues
them. With ``Accept: text/event-stream`` and feature messaging >= 2 the same URL streams instead:
one message per event (``data: <json>``), a ``:ping`` comment at once and every
``SSE_PING_SECONDS``; the stream ends when the session ends (after its last messages), when the
client goes away, the simulator stops or the ``down`` fault is set. The choices are listed in the
package docstring. The connectionStateChangeMessage of a session ended by a fault is queued by
``sessions.SessionStore.end_all``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .routing import Request, Response, Route

if TYPE_CHECKING:
    from .app import App
    from .sessions import Session

SSE_PING_SECONDS = 5.0  # choice: the record shows ":ping" lines, not their cadence
STREAM_CHECK_SECONDS = 0.25


def wants_events(req: Request) -> bool:
    accept = (req.header("Accept") or "").lower()
    return "text/event-stream" in accept


def messages(app: App, req: Request, params: dict[str, str]) -> Response:
    session = req.session
    assert session is not None
    if wants_events(req) and app.feature_versions()["messaging"] >= 2:
        return Response(200, stream=_event_stream(app, session))
    messages = app.sessions.drain(session)
    if session.ended:
        app.sessions.remove(session.id)
    return Response(200, messages)


def _event(message: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(message, separators=(",", ":")).encode() + b"\n\n"


def _event_stream(app: App, session: Session) -> Callable[[Callable[[bytes], None]], None]:
    def run(write: Callable[[bytes], None]) -> None:
        write(b":ping\n\n")
        pinged = time.monotonic()
        while not app.stopping.is_set():
            session.wake.clear()
            for message in app.sessions.drain(session):
                write(_event(message))
            if not app.sessions.is_live(session) or app.faults.snapshot()["down"]:
                return
            app.sessions.touch(session)  # an open stream keeps the session alive (choice)
            # Short waits, so a server taken down drops its open streams at once, as a dead one
            # would, instead of at the next ping.
            session.wake.wait(STREAM_CHECK_SECONDS)
            if time.monotonic() - pinged >= SSE_PING_SECONDS:
                write(b":ping\n\n")
                pinged = time.monotonic()

    return run


ROUTES = [
    Route(
        "/icws/{sessionId}/messaging/messages",
        {"GET": messages},
        session=True,
        csrf_optional=True,
    ),
]
