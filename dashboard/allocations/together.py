"""Several ORM statements sent to the database as one round trip.

Most of a job's statements are writes nothing waits on (the roster, the agents' hold, the
batches' status), and each was a round trip of its own. On the 2-core machine under load a
round trip costs two context switches (the worker to PostgreSQL and back, about 1 ms at load
6), more than the statement itself: a lone job's latency was mostly waiting for them.

``run`` compiles each statement with Django's own compilers (same SQL, same parameters, same
converters as ``update()``, ``bulk_create()`` and ``values_list()`` would use) and, on
PostgreSQL, sends them as one query string: psycopg's client-side binding, which Django uses,
runs several statements in one execute, in order, in the caller's transaction. Elsewhere
(SQLite, in process) they run one by one. Only the transport differs, so an error in any
statement fails the caller's transaction as it did before.

Not for statements whose answer decides what comes next in the same batch (a fence's row
count is read before the writes it guards are sent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models.constants import OnConflict
from django.db.models.query import get_related_populators
from django.db.models.sql import DeleteQuery, InsertQuery, UpdateQuery

# ``field__any_of=ids`` (registered where it is defined), for this module's callers.
from dashboard.core.lookups import AnyOf  # noqa: F401

# Between statements of one round trip; bench/jobs.py counts statements by it.
SEPARATOR = ";\n"


@dataclass
class Statement:
    sql: str
    params: tuple
    compiler: Any = None  # a SELECT's, to convert its rows as the ORM would
    rows: bool = False  # a raw SELECT: ``result`` is its rows as the driver gives them
    model: Any = None  # a model SELECT (``select_models``): ``result`` is its instances
    result: Any = field(default=None, init=False)  # rows of a SELECT, row count otherwise


def update(queryset: QuerySet, **values) -> Statement | None:
    """``queryset.update(**values)``, compiled, not run. ``result``: the row count. None when
    the filter can match nothing (``__in=[]``), where ``update()`` sends nothing either."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    query.annotations = {}
    try:
        sql, params = query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:
        return None
    return Statement(sql, tuple(params))


def delete(queryset: QuerySet) -> Statement | None:
    """A plain DELETE of ``queryset``'s rows: for models with no delete signals and nothing
    pointing at them, which is what ``delete()`` sends for them too. None as for ``update``."""
    query = queryset.query.clone()
    query.__class__ = DeleteQuery
    try:
        sql, params = query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:
        return None
    return Statement(sql, tuple(params))


def insert_ignoring_conflicts(model, objs: list) -> list[Statement]:
    """``bulk_create(objs, ignore_conflicts=True)`` of new rows (their ids left to the
    database, as ``bulk_create`` does for objects without one)."""
    if not objs:
        return []
    auto = model._meta.auto_field
    fields = [f for f in model._meta.concrete_fields if not f.generated and f is not auto]
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, objs)
    return [
        Statement(sql, tuple(params))
        for sql, params in query.get_compiler(connection.alias).as_sql()
    ]


def insert_product_ignoring_conflicts(
    model, lists: dict[str, list], constants: dict[str, Any]
) -> list[Statement]:
    """``insert_ignoring_conflicts`` of one new row per combination of ``lists``' values
    (field name -> values: each combination once), every row with ``constants``
    (field name -> value; every other field is left to its column default).

    On PostgreSQL one ``INSERT ... SELECT`` from ``unnest`` of each list as one array parameter
    (``AnyOf`` says why); elsewhere the model objects and ``bulk_create``'s statements."""
    if not all(lists.values()):
        return []
    if connection.vendor != "postgresql":
        names = list(lists)
        combos = product(*lists.values())
        objs = [model(**dict(zip(names, c, strict=True)), **constants) for c in combos]
        return insert_ignoring_conflicts(model, objs)
    quote = connection.ops.quote_name
    meta = model._meta
    listed = [meta.get_field(name) for name in lists]
    fixed = [meta.get_field(name) for name in constants]
    sources = [
        f"unnest(%s::{field.db_type(connection)}[]) AS _{i}" for i, field in enumerate(listed)
    ]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608 - names from the model's meta
        f"({', '.join(quote(f.column) for f in [*listed, *fixed])}) "
        f"SELECT {', '.join([f'_{i}' for i in range(len(listed))] + ['%s'] * len(fixed))} "
        f"FROM {' CROSS JOIN '.join(sources)} ON CONFLICT DO NOTHING"
    )
    params = [
        *(list(values) for values in lists.values()),
        *(f.get_db_prep_save(constants[f.name], connection) for f in fixed),
    ]
    # Parameters in the order they appear: the constants (in the SELECT list) come first.
    params = params[len(listed) :] + params[: len(listed)]
    return [Statement(sql, tuple(params))]


def select(queryset: QuerySet) -> Statement:
    """A ``values_list()`` queryset's SELECT. ``result``: its rows as tuples, converted."""
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # answered without asking, as the ORM does
        answered = Statement("", ())
        answered.result = []
        return answered
    return Statement(sql, tuple(params), compiler)


def select_models(queryset: QuerySet) -> Statement:
    """A model queryset's SELECT (no deferred fields). ``result``: its rows as model instances,
    as iterating the queryset gives them, ``select_related`` objects and annotations set."""
    if queryset.query.deferred_loading[0]:
        raise ValueError("select_models takes a queryset without deferred fields")
    statement = select(queryset)
    if statement.sql:
        statement.model = queryset.model
    return statement


def raw_select(sql_params: tuple[str, tuple] | None) -> Statement | None:
    """A SELECT written by hand (``(sql, params)``); None stays None (nothing to run)."""
    if sql_params is None:
        return None
    return Statement(sql_params[0], tuple(sql_params[1]), rows=True)


def run(statements: list[Statement | None]) -> list[Statement]:
    """Run ``statements`` in order, in the caller's transaction; fills each one's ``result``.
    None entries are skipped (a statement the caller had no need of)."""
    statements = [s for s in statements if s is not None and s.sql]
    if not statements:
        return statements
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or len(statements) == 1:
            for statement in statements:
                cursor.execute(statement.sql, statement.params)
                _take(cursor, statement)
            return statements
        cursor.execute(
            SEPARATOR.join(s.sql for s in statements),
            tuple(p for s in statements for p in s.params),
        )
        for i, statement in enumerate(statements):
            if i:
                cursor.nextset()
            _take(cursor, statement)
    return statements


def _take(cursor, statement: Statement) -> None:
    if statement.rows:
        statement.result = cursor.fetchall()
        return
    if statement.compiler is None:
        statement.result = cursor.rowcount
        return
    rows = cursor.fetchall()
    statement.result = list(statement.compiler.results_iter(results=[rows]))
    if statement.model is not None:
        statement.result = _instances(statement.compiler, statement.result)


def _instances(compiler, rows: list) -> list:
    """Model instances from a model SELECT's converted rows, as ``ModelIterable`` builds them."""
    db, select, info = compiler.using, compiler.select, compiler.klass_info
    start, end = info["select_fields"][0], info["select_fields"][-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    related = get_related_populators(info, select, db)
    instances = []
    for row in rows:
        obj = info["model"].from_db(db, names, row[start:end])
        for populator in related:
            populator.populate(row, obj)
        for name, position in compiler.annotation_col_map.items():
            setattr(obj, name, row[position])
        instances.append(obj)
    return instances
