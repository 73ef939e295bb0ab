"""A job run's statements compiled once per worker thread, not once per job.

A lone one-agent job's claim built and compiled eight querysets before its first send (the job's
locked row with its requester and requested roster, its batches, its agents locked, the
coalescing probe, the claim, the hold, the batch marked sending, the campaigns' names): about
3 ms of the worker's Python at load 2, on the path between the job's ``created_at`` and its
send, for SQL that is the same for every one-agent job. ``Kept(build)`` calls ``build`` once per
thread, database and *shape* of its arguments with a distinct marker in place of each value,
keeps the statement's SQL and where each marker went among its parameters, and each later call
binds the real values there. The first call of each shape is also built from the real values
and must give the same SQL and parameters, else that shape is built every time.

``build(*args)`` returns a ``together.Statement`` (or None) and must put each argument into
the statement only as a value (a lookup's right-hand side, an UPDATE's new value), once (a
value written twice is two arguments): nothing else may depend on it. Booleans are not values
but choices: they are part of the shape and passed as they are, as is what ``Fixed`` wraps (a
LIMIT, say). Only on PostgreSQL; elsewhere ``build`` runs on every call.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection

from dashboard.allocations.together import Statement

# Lists longer than this are built every time (a batch of 100 agents is kept; a 5,000-agent
# move's statements are few beside its work). Shapes kept per thread and database, at most.
MAX_LIST = 100
MAX_SHAPES = 256
_UNKEPT = object()  # this shape is built on every call
_INT_MARKER = 2_100_000_000  # positive and inside a 32-bit column's range
_DATETIME_MARKER = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


class Fixed:
    """An argument that is part of the shape, not a value: passed to ``build`` as it is."""

    def __init__(self, value):
        self.value = value


class Kept:
    def __init__(self, build: Callable[..., Statement | None]):
        self._build = build
        self._local = threading.local()

    def __call__(self, *args: Any) -> Statement | None:
        if connection.vendor != "postgresql":
            return self._build(*_unfixed(args))
        shape = tuple(_shape(arg) for arg in args)
        if None in shape:
            return self._build(*_unfixed(args))
        kept: dict = self._local.__dict__.setdefault(connection.alias, {})
        entry = kept.get(shape)
        if entry is None:
            if len(kept) >= MAX_SHAPES:  # full: no second build that could not be kept anyway
                return self._build(*_unfixed(args))
            entry, first = self._keep(shape, args)
            kept[shape] = entry
            return first
        if entry is _UNKEPT:
            return self._build(*_unfixed(args))
        return _bound(entry, args)

    def _keep(self, shape: tuple, args: tuple) -> tuple[Any, Statement | None]:
        """The kept form of ``shape`` (or ``_UNKEPT``) and this call's statement."""
        real = self._build(*_unfixed(args))
        markers, flat = _markers(shape)
        try:
            template = self._build(*markers)
        except Exception:  # a build that converts its values (int("\x00kept-0\x00")): not
            return _UNKEPT, real  # kept; the job still runs on the statement built as before
        if real is None or template is None or not template.sql:
            return _UNKEPT, real
        slots = []
        found = [0] * len(flat)
        for param in template.params:
            i = _find(param, flat)
            if i is not None:
                found[i] += 1
            slots.append((i, param))
        positions = _positions(shape)
        if not _each_once(found, positions, shape):
            return _UNKEPT, real
        entry = (template, slots, positions)
        bound = _bound(entry, args)
        if (
            bound.sql != real.sql
            or len(bound.params) != len(real.params)
            or not all(map(_same, bound.params, real.params))
        ):
            return _UNKEPT, real
        return entry, real


def _unfixed(args: tuple) -> list:
    return [arg.value if isinstance(arg, Fixed) else arg for arg in args]


def _shape(arg: Any):
    if isinstance(arg, Fixed):
        return ("fixed", arg.value)
    if isinstance(arg, bool):
        return ("bool", arg)
    if isinstance(arg, int):
        return "int"
    if isinstance(arg, str):
        return "str"
    if isinstance(arg, datetime) and arg.tzinfo is not None:
        return "datetime"
    if isinstance(arg, list | tuple) and len(arg) <= MAX_LIST:
        kinds = {_shape(v) for v in arg}
        if kinds <= {"int"} or kinds <= {"str"}:
            return ("list", kinds.pop() if kinds else "str", len(arg))
    return None


def _marker(kind: str, n: int):
    if kind == "int":
        return _INT_MARKER + n
    if kind == "datetime":
        return _DATETIME_MARKER + timedelta(microseconds=n)
    return f"\x00kept-{n}\x00"


def _markers(shape: tuple) -> tuple[list, list]:
    """Arguments for ``build`` with markers in place of the values, and every marker to look
    for among the parameters: each value's, and each list's as a whole (an array parameter)."""
    built, flat = [], []
    for part in shape:
        if isinstance(part, tuple) and part[0] in ("bool", "fixed"):
            built.append(part[1])
        elif isinstance(part, tuple):
            values = [_marker(part[1], len(flat) + i) for i in range(part[2])]
            flat += values
            if values:
                flat.append(list(values))
            built.append(list(values))
        else:
            built.append(_marker(part, len(flat)))
            flat.append(built[-1])
    return built, flat


def _positions(shape: tuple) -> list[tuple[int, int | None]]:
    """For each marker of ``_markers``: (argument index, index in its list, or None for a
    scalar or a list as a whole)."""
    positions = []
    for a, part in enumerate(shape):
        if isinstance(part, tuple) and part[0] in ("bool", "fixed"):
            continue
        if isinstance(part, tuple):
            positions += [(a, i) for i in range(part[2])]
            if part[2]:
                positions.append((a, None))
        else:
            positions.append((a, None))
    return positions


def _each_once(found: list[int], positions: list, shape: tuple) -> bool:
    """Every value found once: a scalar once; a list's values one by one (``IN``) or the list
    once as a whole (an array parameter), not both."""
    for a, part in enumerate(shape):
        mine = [found[k] for k, p in enumerate(positions) if p[0] == a]
        if not (isinstance(part, tuple) and part[0] == "list"):
            if mine and mine != [1]:
                return False
            continue
        items, whole = mine[:-1], mine[-1:]
        as_array = whole == [1] and not any(items)
        one_by_one = whole == [0] and all(n == 1 for n in items)
        if not (as_array or one_by_one):
            return False
    return True


def _find(param: Any, flat: list) -> int | None:
    value = param.obj if hasattr(param, "obj") else param  # psycopg's Json/Jsonb wrappers
    for i, marker in enumerate(flat):
        comparable = type(value) is type(marker) or (
            isinstance(value, int) and isinstance(marker, int) and not isinstance(value, bool)
        )
        if comparable and value == marker:
            return i
    return None


def _bound(entry, args: tuple) -> Statement:
    template, slots, positions = entry
    params = []
    for i, param in slots:
        if i is None:
            params.append(param)
            continue
        a, j = positions[i]
        value = args[a] if j is None else args[a][j]
        params.append(_like(param, list(value) if isinstance(value, tuple) else value))
    statement = Statement(template.sql, tuple(params), template.compiler, template.rows)
    statement.model = template.model
    return statement


def _like(param: Any, value: Any) -> Any:
    """``value`` wrapped as the marker's parameter was (psycopg's Int4, Jsonb, ...)."""
    if hasattr(param, "obj"):
        wrapped = copy.copy(param)
        wrapped.obj = value
        return wrapped
    if type(param) is not type(value) and isinstance(param, int):
        return type(param)(value)
    return value


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    return a == b or (hasattr(a, "obj") and a.obj == b.obj)
