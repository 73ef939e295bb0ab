"""ICWS sessions: ids, CSRF tokens, cookies, idle expiry, subscriptions and message queues."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

MAX_QUEUED_MESSAGES = 1000  # per session; the oldest message is dropped first
CONNECTION_STATE_MESSAGE = "urn:inin.com:connection:connectionStateChangeMessage"
CONNECTION_UP, CONNECTION_DOWN = 1, 2  # connectionState values (choice: 1 is what GET shows)


def connection_lost_message(reason: str) -> dict[str, Any]:
    """What a session ended by the server finds last in its queue (REF 2.6)."""
    return {
        "__type": CONNECTION_STATE_MESSAGE,
        "previousConnectionState": CONNECTION_UP,
        "newConnectionState": CONNECTION_DOWN,
        "reason": reason,
        "shouldReconnect": True,
    }


@dataclass
class Session:
    id: str
    csrf_token: str
    cookie_value: str
    user_id: str
    display_name: str
    application_name: str
    language: str
    created: float
    last_seen: float
    queue: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_QUEUED_MESSAGES))
    # user-statuses subscription: watched user ids and the properties to send (None = all)
    status_user_ids: frozenset[str] = frozenset()
    status_properties: tuple[str, ...] | None = None
    # sessions-users subscription: watched user ids (messaging.py / subscriptions.py)
    client_user_ids: frozenset[str] = frozenset()
    # set on every push so an open SSE stream wakes at once
    wake: threading.Event = field(default_factory=threading.Event)
    ended: bool = False  # ended by the server: one last read of the queue, then 401

    @property
    def cookie_name(self) -> str:
        return f"icws_{self.id}"

    def csrf_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token, self.csrf_token)

    def cookie_matches(self, value: str | None) -> bool:
        return value is not None and hmac.compare_digest(value, self.cookie_value)


def language_id(language: str) -> str:
    """The cookie's languageId: the Accept-Language tag lower-cased, en-us when unusable."""
    tag = language.split(";")[0].strip().lower()
    if tag and len(tag) <= 35 and all(c.isascii() and (c.isalnum() or c == "-") for c in tag):
        return tag
    return "en-us"


class SessionStore:
    def __init__(self, idle_timeout: float) -> None:
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._last_sweep = 0.0
        self._ended: dict[str, Session] = {}  # ended by a fault, queue readable once

    def create(
        self, user_id: str, display_name: str, application_name: str, language: str
    ) -> Session:
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            while True:
                sid = str(secrets.randbelow(9 * 10**9) + 10**9)  # ten random decimal digits
                if sid not in self._sessions:
                    break
            session = Session(
                id=sid,
                csrf_token=secrets.token_urlsafe(24),
                # "<value>|languageId=en-us" as recorded (REF 10)
                cookie_value=f"{secrets.token_urlsafe(24)}|languageId={language_id(language)}",
                user_id=user_id,
                display_name=display_name,
                application_name=application_name,
                language=language,
                created=now,
                last_seen=now,
            )
            self._sessions[sid] = session
            return session

    def find(self, session_id: str) -> Session | None:
        """The live session, or None when unknown or idle too long (then it is removed)."""
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self.idle_timeout:
                del self._sessions[session_id]
                return None
            return session

    def touch(self, session: Session) -> None:
        with self._lock:
            session.last_seen = time.monotonic()

    def remove(self, session_id: str) -> bool:
        with self._lock:
            session = self._sessions.pop(session_id, None)
            if session is not None:
                session.ended = True
                session.wake.set()
            return session is not None

    def clear(self) -> int:
        with self._lock:
            count = len(self._sessions)
            for session in self._sessions.values():
                session.ended = True
                session.wake.set()
            self._sessions.clear()
            self._ended.clear()
            return count

    def end_all(self, message: dict[str, Any]) -> int:
        """End every session, queueing ``message`` (connectionStateChangeMessage) to each.

        An open SSE stream sends it and closes; a short poller reads it once with its next
        ``GET messaging/messages`` (``take_ended``); every other request gets 401 at once.
        """
        with self._lock:
            count = len(self._sessions)
            for session in self._sessions.values():
                session.ended = True
                session.queue.append(message)
                session.wake.set()
            self._ended = dict(self._sessions)
            self._sessions.clear()
            return count

    def take_ended(self, session_id: str) -> Session | None:
        """An ended session's last queue read (once), or None."""
        with self._lock:
            return self._ended.pop(session_id, None)

    def is_live(self, session: Session) -> bool:
        with self._lock:
            return not session.ended and self._sessions.get(session.id) is session

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < 1.0:
            return
        self._last_sweep = now
        for sid in [s for s, v in self._sessions.items() if now - v.last_seen > self.idle_timeout]:
            del self._sessions[sid]
        idle = self.idle_timeout
        self._ended = {s: v for s, v in self._ended.items() if now - v.last_seen <= idle}

    # -- messaging --------------------------------------------------------------------------

    def push(self, session: Session, message: dict[str, Any]) -> None:
        with self._lock:
            session.queue.append(message)
        session.wake.set()

    def drain(self, session: Session) -> list[dict[str, Any]]:
        with self._lock:
            messages = list(session.queue)
            session.queue.clear()
            return messages

    def subscribe_statuses(
        self, session: Session, user_ids: list[str], properties: tuple[str, ...] | None
    ) -> None:
        with self._lock:
            session.status_user_ids = frozenset(user_ids)
            session.status_properties = properties

    def unsubscribe_statuses(self, session: Session) -> None:
        with self._lock:
            session.status_user_ids = frozenset()
            session.status_properties = None

    def subscribe_clients(self, session: Session, user_ids: list[str]) -> None:
        with self._lock:
            session.client_user_ids = frozenset(user_ids)

    def client_subscribers(self, user_id: str) -> list[Session]:
        with self._lock:
            return [s for s in self._sessions.values() if user_id in s.client_user_ids]

    def status_subscribers(self, user_id: str) -> list[Session]:
        with self._lock:
            return [s for s in self._sessions.values() if user_id in s.status_user_ids]

    def sessions_of(self, user_ids: set[str]) -> list[Session]:
        with self._lock:
            return [s for s in self._sessions.values() if s.user_id in user_ids]
