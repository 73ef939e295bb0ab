"""Dialer: strict validation of allocate-agents / ready-for-calls bodies, the delayed apply, and
the agents' Dialer log-ins with the ready-for-calls calls they make."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from datetime import UTC, datetime
from typing import Any

from .errors import bad_request, invalid_property, missing_property
from .sessions import SessionStore
from .state import World

log = logging.getLogger("icws_client.simulator")

ALLOCATE_TYPE = "urn:inin.com:dialer:allocateAgentsParameters"
READY_TYPE = "urn:inin.com:dialer:startReceivingParameters"
ALLOCATE_PROPERTIES = ("agentIds", "campaignIdsIn", "campaignIdsOut")
AUTO_LOGIN_TYPE = "urn:inin.com:dialer:autoLoginMessage"
AUTO_LOGOUT_TYPE = "urn:inin.com:dialer:autoLogoutMessage"


def _check_type_and_keys(body: Any, expected_type: str, what: str, allowed: tuple[str, ...]):
    if not isinstance(body, dict):
        raise bad_request(f"The request body must be a JSON object ({what}).")
    if "__type" in body and body["__type"] != expected_type:
        raise invalid_property("__type", f"__type must be '{expected_type}' when given.")
    for key in body:
        if key != "__type" and key not in allowed:
            raise invalid_property(
                key, f"'{key}' is not a property of {what} (known: {', '.join(allowed)})."
            )


def _id_list(body: dict[str, Any], name: str) -> list[str] | None:
    """A list of non-empty, distinct strings; None when absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        raise invalid_property(name, f"{name} must be a list of strings.")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise invalid_property(name, f"{name}[{index}] must be a non-empty string.")
    repeated = sorted(v for v, n in Counter(value).items() if n > 1)
    if repeated:
        raise invalid_property(name, f"{name} repeats ids: {_quoted(repeated)}.")
    return value


def _quoted(ids: list[str], limit: int = 10) -> str:
    shown = ", ".join(f"'{i}'" for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _check_campaigns(world: World, name: str, ids: list[str]) -> None:
    unknown = [c for c in ids if c not in world.campaigns]
    if unknown:
        raise invalid_property(name, f"{name}: unknown campaign ids {_quoted(unknown)}.")


def parse_allocation(body: Any, world: World) -> tuple[list[str], list[str], list[str]]:
    """(agentIds, campaignIdsIn, campaignIdsOut) from an ``allocateAgentsParameters`` body."""
    _check_type_and_keys(body, ALLOCATE_TYPE, "allocateAgentsParameters", ALLOCATE_PROPERTIES)
    agents = _id_list(body, "agentIds")
    if agents is None:
        raise missing_property("agentIds")
    if not agents:
        raise invalid_property("agentIds", "agentIds must contain at least one agent id.")
    ins = _id_list(body, "campaignIdsIn")
    outs = _id_list(body, "campaignIdsOut")
    if ins is None and outs is None:
        raise missing_property(
            "campaignIdsIn", "campaignIdsIn is required when campaignIdsOut is omitted."
        )
    if not ins and not outs:
        raise invalid_property(
            "campaignIdsIn",
            "campaignIdsIn and campaignIdsOut are both empty: name at least one campaign.",
        )
    ins, outs = ins or [], outs or []
    unknown = [a for a in agents if a not in world.users]
    if unknown:
        raise invalid_property("agentIds", f"agentIds: unknown agent ids {_quoted(unknown)}.")
    _check_campaigns(world, "campaignIdsIn", ins)
    _check_campaigns(world, "campaignIdsOut", outs)
    both = [c for c in ins if c in set(outs)]
    if both:
        raise invalid_property(
            "campaignIdsIn",
            f"Campaigns {_quoted(both)} are in both campaignIdsIn and campaignIdsOut.",
        )
    return agents, ins, outs


def parse_ready_for_calls(body: Any, world: World) -> list[str] | None:
    """The optional ``campaignIds`` of a ``startReceivingParameters`` body (absent body is fine)."""
    if body is None:
        return None
    _check_type_and_keys(body, READY_TYPE, "startReceivingParameters", ("campaignIds",))
    ids = _id_list(body, "campaignIds")
    if ids is not None:
        if not ids:
            raise invalid_property("campaignIds", "campaignIds, when given, must not be empty.")
        _check_campaigns(world, "campaignIds", ids)
    return ids


class AgentDialer:
    """Who is logged in to Dialer, and every ready-for-calls call with its answer.

    ICWS has no call that logs someone else in to Dialer and the dashboard never calls
    ``dialer/log-in``, so a test (or an operator playing the agent) says who is logged in through
    ``/sim/dialer-login``. Logged in means the user's sessions share one Dialer session (the
    record groups a user's tabs of one application into one; *choice*: any application here).
    Without a Dialer log-in, ``ready-for-calls`` is refused (REF 10: "a real server likely refuses
    it"): 400 with a message and no errorId, since none is on record.
    """

    MAX_CALLS = 1000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logged_in: set[str] = set()
        self._calls: deque[dict[str, Any]] = deque(maxlen=self.MAX_CALLS)

    def set_logged_in(self, user_id: str, logged_in: bool) -> None:
        with self._lock:
            (self._logged_in.add if logged_in else self._logged_in.discard)(user_id)

    def logged_in(self, user_id: str) -> bool:
        with self._lock:
            return user_id in self._logged_in

    def logins(self) -> list[str]:
        with self._lock:
            return sorted(self._logged_in)

    def record(
        self, user_id: str, application_name: str, campaign_ids: list[str] | None, status: int
    ) -> None:
        with self._lock:
            self._calls.append(
                {
                    "userId": user_id,
                    "applicationName": application_name,
                    "campaignIds": None if campaign_ids is None else list(campaign_ids),
                    "status": status,
                    "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                }
            )

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(call) for call in self._calls]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def reset(self) -> None:
        with self._lock:
            self._logged_in.clear()
            self._calls.clear()


NOT_LOGGED_IN_MESSAGE = "The agent is not logged in to Dialer."


class Allocator:
    """Applies accepted allocations in order, each ``delay`` seconds after it was accepted."""

    def __init__(self, world: World, sessions: SessionStore, delay: float) -> None:
        self.world = world
        self.sessions = sessions
        self.delay = delay
        self._cond = threading.Condition()
        self._queue: deque[tuple[float, int, dict[str, Any]]] = deque()
        self._unapplied = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="icws-sim-allocator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def submit(
        self, agents: list[str], ins: list[str], outs: list[str], user_id: str, display_name: str
    ) -> None:
        allocation = {
            "agentIds": agents,
            "campaignIdsIn": ins,
            "campaignIdsOut": outs,
            "userId": user_id,
            "userDisplayName": display_name,
            "acceptedAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        with self._cond:
            generation = self.world.generation
            self._queue.append((time.monotonic() + self.delay, generation, allocation))
            self._unapplied += 1
            self._cond.notify_all()

    def clear(self) -> None:
        """Forget accepted allocations not applied yet (reset)."""
        with self._cond:
            self._unapplied -= len(self._queue)
            self._queue.clear()
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return self._unapplied

    def wait_idle(self, timeout: float | None = 5) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._unapplied == 0, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if not self._queue:
                        self._cond.wait()
                        continue
                    remaining = self._queue[0][0] - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                if self._stopping:
                    return
                _, generation, allocation = self._queue.popleft()
            try:
                self._apply(allocation, generation)
            except Exception:
                log.exception("applying an allocation failed")
            finally:
                with self._cond:
                    self._unapplied -= 1
                    self._cond.notify_all()

    def _apply(self, allocation: dict[str, Any], generation: int) -> None:
        move = self.world.apply_allocation(allocation, generation)
        if move is None:
            return
        initiator = allocation["userDisplayName"]
        for session in self.sessions.sessions_of(set(move["agentIds"])):
            if move["campaignIdsOut"]:
                self.sessions.push(
                    session,
                    {
                        "__type": AUTO_LOGOUT_TYPE,
                        "isDelta": False,
                        "campaignIds": list(move["campaignIdsOut"]),
                        "initiatorName": initiator,
                    },
                )
            for campaign_id in move["campaignIdsIn"]:
                self.sessions.push(
                    session,
                    {
                        "__type": AUTO_LOGIN_TYPE,
                        "isDelta": False,
                        "campaignId": campaign_id,
                        "initiatorName": initiator,
                    },
                )
