"""The ICWS listener: one service session whose queue is read for as long as the process runs.

Per session: connect, subscribe user-statuses and sessions-users for the directory's active
agents, then read the queue (SSE when the server has messaging >= 2, else short polling every
``LISTENER_POLL_SECONDS``) and write each message (``writes.py``). It resubscribes when the agent
set changes or the client reconnected under it (a new session has no subscriptions), and ends the
session on ``connectionStateChangeMessage`` or a faulted/suspended ``subscriptionStateMessage``.
Any ICWS or database error ends the session too; the next one starts after a capped, jittered
backoff. Health goes to ``health.py`` (a heartbeat at least every ``BEAT_SECONDS``).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections

from dashboard.directory.models import Agent
from dashboard.presence import health, writes
from dashboard.presence.models import ListenerState
from icws_client import IcwsClient, IcwsError
from icws_client.events import PING
from icws_client.models import UserStatus

log = logging.getLogger("dashboard.presence")

USER_STATUS_MESSAGE = "urn:inin.com:status:userStatusMessage"
SESSIONS_MESSAGE = "urn:inin.com:session:sessionsMessage"
CONNECTION_STATE_MESSAGE = "urn:inin.com:connection:connectionStateChangeMessage"
SUBSCRIPTION_STATE_MESSAGE = "urn:inin.com:messaging:subscriptionStateMessage"
SUBSCRIPTION_SUSPENDED_OR_FAULTED = (2, 3)  # REF 5: 0 None, 1 Normal, 2 Suspended, 3 Faulted
BEAT_SECONDS = 2.0
AGENTS_CHECK_SECONDS = 5.0
SSE_READ_TIMEOUT = 30.0  # no byte (not even a :ping) for this long: the stream is dead


class SessionEnded(Exception):
    """The server ended the session or a subscription: reconnect (not an error to back off)."""


class Listener:
    def __init__(
        self,
        client_factory: Callable[[], IcwsClient],
        stop: threading.Event | None = None,
        *,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
    ) -> None:
        self.client_factory = client_factory
        self.stop = stop or threading.Event()
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._agents: frozenset[str] = frozenset()
        self._session_id = ""
        self._last_beat = 0.0
        self._last_agents_check = 0.0
        self._events = 0

    def run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            client = self.client_factory()
            try:
                self._one_session(client)
                failures = 0
            except SessionEnded as exc:
                log.info("ICWS listener: %s; reconnecting", exc)
                self._status(ListenerState.Status.RECONNECTING, str(exc))
                failures = 0
            except (IcwsError, DatabaseError) as exc:
                failures += 1
                log.warning("ICWS listener: %s (failure %d)", exc, failures)
                self._status(ListenerState.Status.RECONNECTING, f"{type(exc).__name__}: {exc}")
            finally:
                client.close()
                connections.close_all()
            if failures and not self.stop.is_set():
                delay = min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1))
                self.stop.wait(delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
        self._status(ListenerState.Status.STOPPED, "")
        connections.close_all()  # this thread's connections: a test database can be dropped

    # -- one session --------------------------------------------------------------------------

    def _one_session(self, client: IcwsClient) -> None:
        conn = client.connect()
        self._session_id = conn.session_id
        self._log_switchover(client)
        self._subscribe(client)
        sse = (client.feature_version("messaging") or 0) >= 2
        health.set_status(
            ListenerState.Status.LIVE, transport="sse" if sse else "poll", agents=len(self._agents)
        )
        if sse:
            self._read_events(client)
        else:
            self._poll(client)

    def _log_switchover(self, client: IcwsClient) -> None:
        """Say which switchover pair this session is on, where the server tells (connection 11):
        after a failover, the operator sees in the log whether CIC itself switched over."""
        try:
            status = client.switchover_status()
        except IcwsError as exc:  # optional information: never a reason to end the session
            log.info("ICWS listener: switchover-status unavailable: %s", exc)
            return
        if status is None:
            return
        log.log(
            logging.WARNING if status.active else logging.INFO,
            "ICWS listener on %s: switchover pair primary %s, backup %s; switchover %s",
            client.base_url,
            status.primary_host,
            status.backup_host or "none",
            "IN PROGRESS" if status.active else "not active",
        )

    def _subscribe(self, client: IcwsClient) -> None:
        agents = frozenset(Agent.objects.filter(active=True).values_list("id", flat=True))
        self._agents = agents
        self._last_agents_check = time.monotonic()
        if agents:
            client.subscribe_user_statuses(sorted(agents))
            client.subscribe_sessions_users(sorted(agents))
        connection = client.connection
        self._session_id = connection.session_id if connection else ""

    def _poll(self, client: IcwsClient) -> None:
        interval = settings.LISTENER_POLL_SECONDS
        while not self.stop.is_set():
            messages = client.poll_messages()
            connection = client.connection
            if connection is not None and connection.session_id != self._session_id:
                self._subscribe(client)  # the client reconnected: the new session is bare
                continue
            self._handle_all(messages)
            self._housekeeping(client)
            self.stop.wait(interval)

    def _read_events(self, client: IcwsClient) -> None:
        """Read the event stream here; a watcher thread does the housekeeping meanwhile (a read
        blocks until the next event or ping) and closes the stream when asked to stop."""
        session_id, stream = client.open_events(read_timeout=SSE_READ_TIMEOUT)
        if session_id != self._session_id:
            self._subscribe(client)
        done = threading.Event()
        failed: list[BaseException] = []
        watcher = threading.Thread(
            target=self._watch, args=(client, stream, done, failed), daemon=True
        )
        watcher.start()
        try:
            for message in stream:
                if self.stop.is_set():
                    return
                if message is not PING:
                    self._handle_all([message])
        except IcwsError:
            if self.stop.is_set():
                return
            if failed:  # the watcher's error closed the stream: report that one
                raise failed[0] from None
            raise
        finally:
            done.set()
            stream.close()
            watcher.join(timeout=5)

    def _watch(self, client: IcwsClient, stream: Any, done: threading.Event, failed: list) -> None:
        try:
            while not done.wait(0.1):
                if self.stop.is_set():
                    return
                self._housekeeping(client)
        except (IcwsError, DatabaseError) as exc:  # the reader raises it
            failed.append(exc)
        finally:
            stream.close()
            connections.close_all()

    def _housekeeping(self, client: IcwsClient) -> None:
        now = time.monotonic()
        if now - self._last_agents_check >= AGENTS_CHECK_SECONDS:
            self._last_agents_check = now
            agents = frozenset(Agent.objects.filter(active=True).values_list("id", flat=True))
            if agents != self._agents:
                log.info("ICWS listener: the agent set changed; resubscribing")
                self._subscribe(client)
        if now - self._last_beat >= BEAT_SECONDS:
            self._last_beat = now
            health.beat(self._events)
            self._events = 0

    # -- messages -----------------------------------------------------------------------------

    def _handle_all(self, messages: list[dict[str, Any]]) -> None:
        """One UPDATE per kind of change in the batch (statuses, clients), then the verdicts."""
        statuses: list[UserStatus] = []
        live: set[str] = set()
        gone: set[str] = set()
        ended: str | None = None
        for message in messages:
            kind = message.get("__type")
            if kind == USER_STATUS_MESSAGE:
                for item in message.get("userStatusList") or []:
                    try:
                        statuses.append(UserStatus.from_json(item))
                    except IcwsError as exc:
                        log.warning("ICWS listener: a userStatus skipped: %s", exc)
            elif kind == SESSIONS_MESSAGE:
                added = _session_users(message.get("sessionsAdded"))
                removed = _session_users(message.get("sessionsRemoved"))
                if message.get("isDelta") is False:  # a snapshot: everyone else has none
                    gone |= self._agents - added
                    live -= self._agents - added
                gone = (gone | removed) - added
                live = (live - removed) | added
            elif kind == CONNECTION_STATE_MESSAGE:
                ended = f"the server changed the connection: {str(message.get('reason'))[:200]}"
            elif (
                kind == SUBSCRIPTION_STATE_MESSAGE
                and message.get("state") in SUBSCRIPTION_SUSPENDED_OR_FAULTED
            ):
                ended = f"a subscription is suspended or faulted: {message.get('error')}"
        self._events += len(messages)
        writes.apply_statuses(statuses)
        writes.apply_clients(live, gone)
        if ended:
            raise SessionEnded(ended)

    def _status(self, status: str, error: str) -> None:
        try:
            health.set_status(status, error=error)
        except DatabaseError:
            log.warning("ICWS listener: could not record its status %s", status)


def _session_users(entries: Any) -> set[str]:
    users = set()
    for entry in entries or []:
        user = entry.get("userId") if isinstance(entry, dict) else None
        user_id = user.get("id") if isinstance(user, dict) else user
        if isinstance(user_id, str) and user_id:
            users.add(user_id)
    return users
