"""The agents' own CIC clients (Interaction Connect, say), as the sessions-users feed shows them.

ICWS has no list of them, only ``urn:inin.com:session:sessionsMessage`` (REF 4.3); ``LiveClients``
is the simulator's record behind it. The choices are listed in the package docstring.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .state import config_id

if TYPE_CHECKING:
    from .state import World

SESSIONS_MESSAGE = "urn:inin.com:session:sessionsMessage"
CLIENT_APPLICATION = "Interaction Connect"
REASON_CONNECTION_CHANGE = 0  # sessionChangeReason: 0 ConnectionChange, 1 ConfigurationChange


class LiveClients:
    """Per agent, the client sessions (``session`` entries of a sessionsMessage) logged in."""

    def __init__(self, world: World, service_user: str) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, dict[str, Any]] = {}
        self.load(world, service_user)

    def load(self, world: World, service_user: str) -> None:
        """At start and reset: every user whose status is logged in has one client (*choice*)."""
        clients = {}
        for user_id in world.users:
            status = world.user_status(user_id)
            if user_id != service_user and status is not None and status["loggedIn"]:
                clients[user_id] = self._entry(world, user_id, CLIENT_APPLICATION)
        with self._lock:
            self._clients = clients

    @staticmethod
    def _entry(world: World, user_id: str, application: str) -> dict[str, Any]:
        user = world.users[user_id]
        station = f"Station-{user.get('extension') or user_id}"
        return {
            "applicationName": application,
            "machineName": f"ws-{user.get('extension') or user_id}",
            "stationId": config_id("stations", station, station),
            "userId": config_id("users", user_id, user.get("displayName") or user_id),
            "reason": REASON_CONNECTION_CHANGE,
        }

    def of(self, user_ids: list[str]) -> list[dict[str, Any]]:
        with self._lock:
            return [self._clients[u] for u in user_ids if u in self._clients]

    def connect(self, world: World, user_id: str, application: str) -> dict[str, Any] | None:
        """The new entry, or None if the user already had a client."""
        with self._lock:
            if user_id in self._clients:
                return None
            entry = self._clients[user_id] = self._entry(world, user_id, application)
            return entry

    def disconnect(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._clients.pop(user_id, None)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self._clients)


def sessions_message(added: list, removed: list, *, is_delta: bool) -> dict[str, Any]:
    return {
        "__type": SESSIONS_MESSAGE,
        "isDelta": is_delta,
        "sessionsAdded": added,
        "sessionsRemoved": removed,
    }
