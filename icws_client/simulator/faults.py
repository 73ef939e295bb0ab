"""Fault injection: error statuses, latency, 503 at connect, no licence, a dead server, a
trickling answer.

``Faults.update`` validates and merges a ``POST /sim/faults`` body; ``Faults.decide`` is asked once
per ICWS request and says what to inject. The rules are in the package docstring.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

MAX_LATENCY_MS = 120_000

_FIELDS = (
    "status",
    "count",
    "rate",
    "paths",
    "error_id",
    "message",
    "latency_ms",
    "connect_503",
    "licence",
    "down",
    "trickle",
)
MAX_TRICKLE_INTERVAL_MS = 60_000


class FaultError(ValueError):
    """A bad fault setting; the message names the field."""


@dataclass(frozen=True)
class Decision:
    down: bool = False
    latency: float = 0.0
    status: int | None = None
    error_id: str | None = None
    message: str | None = None
    connect_503: tuple[str, ...] | None = None  # the alternate hosts to offer
    trickle: float = 0.0  # seconds between the body's bytes (0: write it at once)


def _int(value: Any, name: str, low: int, high: int, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultError(
            f"{name} must be an integer from {low} to {high}" + (" or null" * nullable)
        )
    return value


def _str_list(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise FaultError(f"{name} must be a non-empty string or a list of non-empty strings")
    return list(value)


class Faults:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = rng or random.Random()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._values: dict[str, Any] = {
                "status": None,
                "count": None,
                "rate": None,
                "paths": None,
                "error_id": None,
                "message": None,
                "latency_ms": 0,
                "connect_503": None,
                "licence": True,
                "down": False,
                "trickle": None,
            }

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            values = dict(self._values)
            for key in ("connect_503", "trickle"):
                if values[key] is not None:
                    values[key] = dict(values[key])
            return values

    @property
    def licence(self) -> bool:
        with self._lock:
            return self._values["licence"]

    def update(self, data: Any) -> bool:
        """Validate and merge ``data``; True if it asked to expire every session now."""
        if not isinstance(data, dict):
            raise FaultError("the faults body must be a JSON object")
        changes: dict[str, Any] = {}
        expire = False
        for key, value in data.items():
            if key == "expire_sessions":
                if not isinstance(value, bool):
                    raise FaultError("expire_sessions must be true or false")
                expire = value
            elif key not in _FIELDS:
                raise FaultError(f"unknown fault field {key!r}; known: {', '.join(_FIELDS)}")
            elif key == "status":
                changes[key] = _int(value, key, 400, 599, nullable=True)
            elif key == "count":
                changes[key] = _int(value, key, 0, 10**9, nullable=True)
            elif key == "rate":
                if value is not None and (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or not 0 <= value <= 1
                ):
                    raise FaultError("rate must be a number from 0 to 1 or null")
                changes[key] = value
            elif key == "paths":
                changes[key] = None if value is None else _str_list(value, key)
            elif key in ("error_id", "message"):
                if value is not None and (not isinstance(value, str) or not value):
                    raise FaultError(f"{key} must be a non-empty string or null")
                changes[key] = value
            elif key == "latency_ms":
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or not 0 <= value <= MAX_LATENCY_MS
                ):
                    raise FaultError(f"latency_ms must be a number from 0 to {MAX_LATENCY_MS}")
                changes[key] = value
            elif key == "connect_503":
                changes[key] = None if value is None else _connect_503(value)
            elif key == "trickle":
                changes[key] = None if value is None else _trickle(value)
            elif key in ("licence", "down"):
                if not isinstance(value, bool):
                    raise FaultError(f"{key} must be true or false")
                changes[key] = value
        with self._lock:
            self._values.update(changes)
        return expire

    def decide(self, path: str, *, session_scoped: bool, connect: bool, host: str) -> Decision:
        """What to inject into one ICWS request (``path`` without the query string)."""
        with self._lock:
            v = self._values
            if v["down"]:
                return Decision(down=True)
            c503 = v["connect_503"]
            if connect and c503 is not None and (c503["hosts"] is None or host in c503["hosts"]):
                if c503["count"] is not None:
                    c503["count"] -= 1
                    if c503["count"] <= 0:
                        v["connect_503"] = None
                return Decision(connect_503=tuple(c503["alternate_hosts"]))
            trickle = self._trickle(path, session_scoped)
            if v["status"] is None and not v["latency_ms"]:
                return Decision(trickle=trickle)
            if v["paths"] is not None:
                matches = any(p in path for p in v["paths"])
            else:
                matches = session_scoped
            if not matches or v["count"] == 0:
                return Decision(trickle=trickle)
            if v["rate"] is not None and self._rng.random() >= v["rate"]:
                return Decision(trickle=trickle)
            decision = Decision(
                trickle=trickle,
                latency=v["latency_ms"] / 1000,
                status=v["status"],
                error_id=v["error_id"],
                message=v["message"],
            )
            if v["count"] is not None:
                v["count"] -= 1
                if v["count"] <= 0:  # used up: this fault is over
                    v.update(status=None, count=None, rate=None, latency_ms=0)
                    v.update(error_id=None, message=None)
            return decision

    def _trickle(self, path: str, session_scoped: bool) -> float:
        """Seconds per body byte for this request (0: none); called with the lock held."""
        t = self._values["trickle"]
        if t is None or t["count"] == 0:
            return 0.0
        matches = any(p in path for p in t["paths"]) if t["paths"] is not None else session_scoped
        if not matches:
            return 0.0
        if t["count"] is not None:
            t["count"] -= 1
            if t["count"] <= 0:
                self._values["trickle"] = None
        return t["interval_ms"] / 1000

    def alternate_hosts(self) -> list[str]:
        """Hosts advertised in a successful connect's ``alternateHostList``."""
        with self._lock:
            c503 = self._values["connect_503"]
            return list(c503["alternate_hosts"]) if c503 else []


def _connect_503(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FaultError("connect_503 must be an object or null")
    for key in value:
        if key not in ("count", "hosts", "alternate_hosts"):
            raise FaultError(f"unknown connect_503 field {key!r}")
    hosts = value.get("hosts")
    alternates = value.get("alternate_hosts") or []
    return {
        "count": _int(value.get("count"), "connect_503.count", 1, 10**9, nullable=True),
        "hosts": None
        if hosts is None
        else [h.lower() for h in _str_list(hosts, "connect_503.hosts")],
        "alternate_hosts": _str_list(alternates, "connect_503.alternate_hosts")
        if alternates
        else [],
    }


def _trickle(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FaultError("trickle must be an object or null")
    for key in value:
        if key not in ("paths", "interval_ms", "count"):
            raise FaultError(f"unknown trickle field {key!r}; known: paths, interval_ms, count")
    paths = value.get("paths")
    return {
        "paths": None if paths is None else _str_list(paths, "trickle.paths"),
        "interval_ms": _int(
            value.get("interval_ms", 1000), "trickle.interval_ms", 1, MAX_TRICKLE_INTERVAL_MS
        ),
        "count": _int(value.get("count"), "trickle.count", 1, 10**9, nullable=True),
    }
