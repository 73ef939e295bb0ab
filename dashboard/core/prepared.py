"""Reads on a request's hot path whose SQL the ORM writes once, not on every request.

Building and compiling a queryset costs more CPU than PostgreSQL spends answering a small read:
in a token POST of /api/allocations (bench/api_post.py's), the token query (token, user, three
role subqueries, scope) took 3.4 ms of the request's 9 ms of Python and the move's UNION ALL read
1.8 ms, nearly all of it in ``Query.add_q``/``annotate``/``as_sql``. ``PreparedRead`` asks its
``build`` function for the queryset once per thread, database and *shape* (which arguments are
lists, and how long), with marker values in place of the arguments; it keeps the SQL, the
positions the markers took among its parameters and the column converters, and each call binds
the real values there. The statement and the rows are the ``values_list`` queryset's own; only
its construction is skipped.

Whenever the markers cannot be found once each among the compiled parameters (a lookup that
rewrote its value), a shape is not kept and the queryset is built as before on every call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

# Lists longer than this are not compiled ahead (a 5,000-agent move is compiled as before: its
# compile is small beside the move, and keeping one statement per length would grow without end).
MAX_LIST = 64
# Shapes kept per thread and database; one beyond is built as before.
MAX_SHAPES = 256
_EMPTY = object()  # the shape's query is empty whatever the values (an empty IN list)
_UNPREPARED = object()  # the shape's markers were not found once each: built on every call


class PreparedRead:
    """``rows(*args)``: ``build(*args)``'s rows (a ``values_list`` queryset), compiled once per
    shape. ``build`` must put each argument into the query as a lookup value unchanged (an exact
    or ``in`` lookup on a string or integer column), and nothing else may depend on the values."""

    def __init__(self, build: Callable[..., QuerySet]):
        self._build = build
        self._local = threading.local()

    def rows(self, *args: Any, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
        shape = tuple(_shape(arg) for arg in args)
        kept: dict = self._local.__dict__.setdefault(using, {})
        entry = kept.get(shape)
        if entry is None:
            entry = _compile(self._build, shape, using) if None not in shape else _UNPREPARED
            if len(kept) < MAX_SHAPES:
                kept[shape] = entry
        if entry is _UNPREPARED:
            return list(self._build(*args).using(using))
        if entry is _EMPTY:
            return []
        compiler, sql, slots, converters = entry
        values = [v for arg in args for v in (arg if isinstance(arg, list | tuple) else (arg,))]
        params = [values[i] if i is not None else constant for i, constant in slots]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if compiler.has_extra_select:
            rows = [row[: compiler.col_count] for row in rows]
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [tuple(row) for row in rows]


def _shape(arg: Any):
    if isinstance(arg, list | tuple):
        if len(arg) > MAX_LIST or not all(isinstance(v, str) for v in arg):
            return None  # not kept: compiled as before
        return ("list", len(arg))
    if isinstance(arg, bool) or not isinstance(arg, str | int):
        return None
    return type(arg).__name__


def _markers(shape: tuple) -> tuple[list, list]:
    """Arguments for ``build`` with a distinct marker in place of every value, and the markers
    in argument order."""
    args, flat = [], []

    def marker(kind: str):
        n = len(flat)
        # An int marker stays inside a 32-bit column's range (Django refuses values outside).
        value = f"\x00prepared-{n}\x00" if kind == "str" else -2_000_000_000 + n
        flat.append(value)
        return value

    for part in shape:
        if isinstance(part, tuple):
            args.append([marker("str") for _ in range(part[1])])
        else:
            args.append(marker(part))
    return args, flat


def _compile(build, shape: tuple, using: str):
    args, flat = _markers(shape)
    compiler = build(*args).query.get_compiler(using=using)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _EMPTY
    slots = []
    found = [0] * len(flat)
    index = {(type(m), m): i for i, m in enumerate(flat)}
    for param in params:
        i = index.get((type(param), param)) if isinstance(param, str | int) else None
        if i is not None:
            found[i] += 1
        slots.append((i, None if i is not None else param))
    if any(n != 1 for n in found):
        return _UNPREPARED
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    return compiler, sql, slots, compiler.get_converters(fields)
