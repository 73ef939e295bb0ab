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

On PostgreSQL a kept shape is also a server-side prepared statement (``PREPARE``, once per
connection, then ``EXECUTE name(values)``), so PostgreSQL does not parse, analyse and plan it
again on every request either: planning the token query (nine relations with its role
subqueries) was its largest single cost in a token POST, 0.75-0.9 ms of the backend's 3.4 ms
(EXPLAIN ANALYZE; perf: parse, analysis and planning were 43% of the backend's samples). The
statement and its rows stay the queryset's; after five runs PostgreSQL may keep one generic
plan for it (``plan_cache_mode``). ``PREPARE`` is not transactional (a rolled-back transaction
keeps it), and it goes on the driver's connection, not through Django's cursor, so the
statements a request is seen to run (``execute_wrapper``, ``connection.queries``) are the same
``EXECUTE`` whether or not this connection had prepared it yet. Not used when the driver
prepares statements itself (``OPTIONS["prepare_threshold"]``: psycopg then deallocates every
statement at each rollback), nor with ``DISABLE_SERVER_SIDE_CURSORS`` (Django's setting for a
pooler in transaction mode, which keeps no session state between transactions).

A prepared statement can go stale while its connection lives: a migration that changes a column
it reads makes PostgreSQL refuse it ("cached plan must not change result type"), and a PREPARE
the server ran but whose answer the client lost leaves the name taken. Either way the shape
takes a fresh name, to be prepared again, and the call runs unprepared if it can (outside a
transaction; inside one the error is the transaction's, as any other failed statement's). A
statement PostgreSQL refuses to prepare (a parameter it cannot type) runs unprepared from then on.
Only the first ``MAX_SERVER_SHAPES`` shapes of a read are prepared on the server, per thread:
each costs the backend about 66 KB for as long as the connection lives.
"""

from __future__ import annotations

import itertools
import re
import threading
import weakref
from collections.abc import Callable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import QuerySet

# Lists longer than this are not compiled ahead (a 5,000-agent move is compiled as before: its
# compile is small beside the move, and keeping one statement per length would grow without end).
MAX_LIST = 64
# Shapes kept per thread and database; one beyond is built as before.
MAX_SHAPES = 256
# Of those, prepared on the server (the rest run compiled, unprepared): a one-agent move's read,
# a token's and a job's are among the first, and the server keeps each for the connection's life.
MAX_SERVER_SHAPES = 16
# An EXECUTE's errors that say its prepared statement is stale: feature_not_supported ("cached
# plan must not change result type", after a migration changed a column it reads) and
# invalid_sql_statement_name ("prepared statement does not exist"). A PREPARE's that says its
# name is taken: duplicate_prepared_statement.
_STALE = frozenset({"0A000", "26000"})
_TAKEN = "42P05"
_EMPTY = object()  # the shape's query is empty whatever the values (an empty IN list)
_UNPREPARED = object()  # the shape's markers were not found once each: built on every call
# The names prepared on each driver connection (its session): a new connection prepares anew.
_PREPARED_ON: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PREPARED_ON_LOCK = threading.Lock()
_NAMES = itertools.count()


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
            if isinstance(entry, tuple) and entry[4] is not None:
                servers = self._local.__dict__.setdefault(("servers", using), [0])
                if servers[0] >= MAX_SERVER_SHAPES:
                    entry = (*entry[:4], None)
                else:
                    servers[0] += 1
            if len(kept) < MAX_SHAPES:
                kept[shape] = entry
        if entry is _UNPREPARED:
            return list(self._build(*args).using(using))
        if entry is _EMPTY:
            return []
        compiler, sql, slots, converters, server = entry
        values = [v for arg in args for v in (arg if isinstance(arg, list | tuple) else (arg,))]
        params = [values[i] if i is not None else constant for i, constant in slots]
        connection = connections[using]
        with connection.cursor() as cursor:
            if server is None or not _run_prepared(connection, cursor, server, params):
                cursor.execute(sql, params)
            rows = cursor.fetchall()
        if compiler.has_extra_select:
            rows = [row[: compiler.col_count] for row in rows]
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [tuple(row) for row in rows]


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _shape(arg: Any):
    if isinstance(arg, list | tuple):
        if len(arg) > MAX_LIST or not all(isinstance(v, str) for v in arg):
            return None  # not kept: compiled as before
        return ("list", len(arg))
    if isinstance(arg, bool) or not isinstance(arg, str | int):
        return None
    if isinstance(arg, int) and not _INT_MIN <= arg <= _INT_MAX:
        # Compiled as before, where Django makes a lookup of a value outside its column's
        # range match nothing; sent to the server, it is an error ("out of range": a 500 for
        # /api/allocations/<a 34-digit id>, found by the fuzz drill). Inside 32 bits is sent:
        # the reads here compare integer and bigint columns (ids, versions), never a smallint,
        # whose range is narrower.
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
    server = None
    if compiler.connection.vendor == "postgresql":
        server = _ServerStatement.of(sql, [c if i is None else flat[i] for i, c in slots])
    return compiler, sql, slots, compiler.get_converters(fields), server


class _ServerStatement:
    """A kept shape's ``PREPARE`` and the ``EXECUTE`` that runs it with a call's parameters."""

    __slots__ = ("_args", "_as", "execute", "name", "off", "prepare")

    def __init__(self, declared_as: str, args: str):
        self._as, self._args = declared_as, args
        self.off = False  # PostgreSQL refused to prepare it: the shape runs unprepared
        self.rename()

    def rename(self) -> None:
        """A fresh name, prepared anew on each connection (the old one is stale or taken)."""
        self.name = f"dashboard_read_{next(_NAMES)}"
        self.prepare = f"PREPARE {self.name}{self._as}"
        self.execute = f"EXECUTE {self.name}{self._args}"

    @classmethod
    def of(cls, sql: str, params: list) -> _ServerStatement | None:
        """None when a parameter's type is not one this knows how to declare, or the SQL has a
        placeholder this does not rewrite: the shape then runs as before, unprepared."""
        types = [_param_type(p) for p in params]
        if None in types:
            return None
        numbered, count = _numbered(sql)
        if count != len(params):
            return None
        # ``unknown``: PostgreSQL infers the type from where the value stands, as it does for
        # the quoted literal Django's client-side binding sends in its place.
        declared = f" ({', '.join(types)})" if types else ""
        # The statement's own text rides along as a comment, so a log line, pg_stat_activity
        # and a test reading the statements run say what was read, not only a name (PostgreSQL
        # nests comments: no "/*" or "*/" left in it; %% for the driver's placeholders).
        text = numbered.replace("/*", "/ *").replace("*/", "* /").replace("%", "%%")
        args = f"({', '.join(['%s'] * count)})" if count else ""
        return cls(f"{declared} AS {numbered}", f"{args} /* {text} */")


def _param_type(value) -> str | None:
    """The SQL type to declare for a parameter: that of the literal client-side binding sends."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "unknown"
    if type(value) is int:
        return "int8"
    if isinstance(value, int):
        # psycopg's wrappers (Int2, Int4, Int8) are ints and name their type; another int
        # subclass (IntNumeric, Oid, an enum) is not guessed at.
        return {"Int2": "int2", "Int4": "int4", "Int8": "int8"}.get(type(value).__name__)
    return None


_PLACEHOLDER = re.compile(r"%[s%]")


def _numbered(sql: str) -> tuple[str, int]:
    """Django's ``%s`` placeholders as PostgreSQL's ``$1, $2, ...`` (``%%`` is a literal %),
    and how many there were; a ``%`` before any other character is left to fail the count."""
    count = 0

    def number(match: re.Match) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    numbered = _PLACEHOLDER.sub(number, sql)
    if "%" in _PLACEHOLDER.sub("", sql):
        return numbered, -1
    return numbered, count


def _run_prepared(connection, cursor, server: _ServerStatement, params: list) -> bool:
    """Run ``server`` on ``cursor`` (preparing it on the connection's session if need be);
    False when it was not run and the caller should run the plain SQL instead: preparing is
    off for this connection or this statement, or the statement was stale and a plain one can
    still run (outside a transaction; inside one the error is raised, the transaction's)."""
    driver = connection.connection
    if (
        server.off
        or driver is None
        or driver.prepare_threshold is not None
        or connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    ):
        return False
    names = _PREPARED_ON.get(driver)
    if names is None:
        with _PREPARED_ON_LOCK:  # threads add their connections; each uses only its own
            names = _PREPARED_ON.setdefault(driver, set())
    if server.name not in names:
        try:
            with connection.wrap_database_errors:
                driver.execute(server.prepare)
        except DatabaseError as error:
            state = _sqlstate(error)
            if state == _TAKEN:
                server.rename()  # the server ran an earlier PREPARE whose answer was lost
            elif state.startswith("42"):
                server.off = True  # PostgreSQL cannot prepare it (a parameter it cannot type)
            else:
                raise
            if connection.in_atomic_block:
                raise
            return False
        names.add(server.name)
    try:
        cursor.execute(server.execute, params)
    except DatabaseError as error:
        if _sqlstate(error) not in _STALE:
            raise
        server.rename()
        if connection.in_atomic_block:
            raise
        return False
    return True


def _sqlstate(error: DatabaseError) -> str:
    return getattr(error.__cause__, "sqlstate", None) or ""


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
