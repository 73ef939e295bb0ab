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
        # An int marker stays inside every integer column's range, a positive small integer's
        # too: Django makes a lookup of a value outside it match nothing (EmptyResultSet).
        value = f"\x00prepared-{n}\x00" if kind == "str" else 32_767 - n
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
        # Empty whatever the values only where an argument is an empty list; otherwise it was
        # a marker's value (out of a column's range): built as before on every call.
        return _EMPTY if ("list", 0) in shape else _UNPREPARED
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


class PreparedInsert:
    """``statement(objs)``: the ``(sql, params)`` of a plain INSERT of one new ``model`` row, as
    ``InsertQuery``'s compiler writes it, with the SQL built once per thread and database.

    ``fields``: the model's concrete fields to write (the ORM's choice: all but generated ones,
    and the id only when the row brings its own). ``sql_values``: field attname -> an expression
    written in place of every row's value (e.g. the id as ``currval`` of its sequence). The
    values are the compiler's own (``field.pre_save(obj, add=True)`` then
    ``get_db_prep_save``); the first statement of each thread is checked against the
    compiler's, and a model where they differ is compiled as before on every call. Compiling
    the job's INSERT (30 columns) took 0.4 ms of a POST, most of it per-column machinery that
    gives the same SQL every time."""

    def __init__(self, model, fields: list, sql_values: dict | None = None):
        self._model = model
        self._fields = list(fields)
        self._sql_values = dict(sql_values or {})
        self._local = threading.local()

    def statement(self, obj, using: str = DEFAULT_DB_ALIAS) -> tuple[str, tuple]:
        kept = self._local.__dict__.get(using)
        if kept is None:
            compiled = self._compile(obj, using)
            kept = self._local.__dict__.setdefault(using, self._check(compiled, obj, using))
            return compiled  # this object's own, from the compiler
        if kept is _UNPREPARED:
            return self._compile(obj, using)
        sql, fields = kept
        connection = connections[using]
        return sql, tuple(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)

    def _compile(self, obj, using: str) -> tuple[str, tuple]:
        from django.db.models.expressions import RawSQL
        from django.db.models.sql import InsertQuery

        for attname, sql in self._sql_values.items():
            setattr(obj, attname, RawSQL(sql, ()))  # noqa: S611 - the caller's SQL, no input
        query = InsertQuery(self._model)
        query.insert_values(self._fields, [obj])
        [(sql, params)] = query.get_compiler(using).as_sql()
        return sql, tuple(params)

    def _check(self, compiled: tuple[str, tuple], obj, using: str):
        """The SQL and the fields whose values are its parameters, if computing them field by
        field gives the compiler's parameters; else ``_UNPREPARED``."""
        fields = [f for f in self._fields if f.attname not in self._sql_values]
        if any(getattr(f, "get_placeholder", None) for f in fields):
            return _UNPREPARED
        connection = connections[using]
        mine = [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
        if len(mine) != len(compiled[1]) or not all(map(_same, mine, compiled[1])):
            return _UNPREPARED
        return compiled[0], fields


def _same(a, b) -> bool:
    """Equal parameters; the driver's wrappers (psycopg's Jsonb) compare by what they wrap."""
    if type(a) is not type(b):
        return False
    return a == b or (hasattr(a, "obj") and a.obj == b.obj)
