"""Audit rows as plain tuples, JSON columns and times as text: the fast path of verify and export.

No model instance and no JSON parsing per row: the JSON columns come back as the database's
text, in the form the row's hash format hashes them (version 4: jsonb's own text, as
PostgreSQL gives it, or ``chain.jsonb_text_from_json`` of SQLite's; before it: version 2's
compact text, ``chain.json_text_from_db``; each converted once per distinct value), the time
as UTC text
(PostgreSQL formats it; SQLite stores text already). On PostgreSQL, ``.iterator()`` inside a
transaction reads through a server-side cursor, so memory stays flat at any size.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection
from django.db.models import F, Func, QuerySet, TextField
from django.db.models.functions import Cast

from dashboard.audit.chain import (
    HASHED_FIELDS,
    JSON_FIELDS_V4,
    V4_EXTRA_FIELDS,
    json_text_from_db,
    jsonb_text_from_json,
)

# Tuple order of ``rows``: id, hash_version, then chain.HASHED_FIELDS, then prev_hash, hash,
# then chain.V4_EXTRA_FIELDS (names and search columns: hashed from version 4 on).
COLUMNS = ("id", "hash_version", *HASHED_FIELDS, "prev_hash", "hash", *V4_EXTRA_FIELDS)
JSON_POSITIONS = tuple(i for i, name in enumerate(COLUMNS) if name in JSON_FIELDS_V4)
AT = COLUMNS.index("at")
FIELDS = slice(2, 2 + len(HASHED_FIELDS))  # row[FIELDS]: the HASHED_FIELDS values
EXTRA = slice(COLUMNS.index("hash") + 1, None)  # row[EXTRA]: the V4_EXTRA_FIELDS values


class UtcText(Func):
    """A timestamp as ``chain.utc_text`` writes it, formatted by the database."""

    output_field = TextField()

    def as_postgresql(self, compiler, conn, **extra):
        return self.as_sql(
            compiler,
            conn,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')',
            **extra,
        )

    def as_sql(self, compiler, conn, function=None, template=None, **extra):
        if template is None:  # SQLite (text already) and others: cast, fixed up in Python
            template = "CAST(%(expressions)s AS TEXT)"
        return super().as_sql(compiler, conn, function=function, template=template, **extra)


def _sqlite_time(text: str) -> str:
    """'2026-12-01 20:46:49[.123456]' (how Django stores UTC on SQLite) -> utc_text."""
    if len(text) == 19:
        text += ".000000"
    return text.replace(" ", "T")[:26] + "Z"


def _values(queryset: QuerySet) -> QuerySet:
    annotations = {f"_t_{name}": Cast(F(name), TextField()) for name in JSON_FIELDS_V4}
    annotations["_t_at"] = UtcText(F("at"))
    names = [f"_t_{n}" if n in JSON_FIELDS_V4 or n == "at" else n for n in COLUMNS]
    return queryset.annotate(**annotations).values_list(*names)


def _as_is(raw: str | None) -> str:
    return "~" if raw is None else raw


def _fixed(batch) -> Iterator[list]:
    sqlite = connection.vendor == "sqlite"
    fix_time = _sqlite_time if sqlite else None
    v4_form = jsonb_text_from_json if sqlite else _as_is
    positions = JSON_POSITIONS
    for row in batch:
        row = list(row)
        form = v4_form if row[1] >= 4 else json_text_from_db
        for i in positions:
            row[i] = form(row[i])
        if fix_time is not None:
            row[AT] = fix_time(row[AT])
        yield row


def rows(queryset: QuerySet, *, chunk: int = 5000) -> Iterator[list]:
    """``queryset``'s rows in its order as ``COLUMNS`` lists, JSON columns canonical. Call it
    inside a transaction on PostgreSQL (a server-side cursor without WITH HOLD)."""
    return _fixed(_values(queryset).iterator(chunk_size=chunk))


def pages_newest_first(queryset: QuerySet, *, chunk: int = 5000) -> Iterator[list[list]]:
    """``queryset``'s rows newest first, in keyset pages of ``chunk`` (``id < last``): constant
    memory, and no transaction or cursor held open while a slow client reads a page."""
    before = None
    values = _values(queryset).order_by("-pk")
    while True:
        page = values.filter(pk__lt=before) if before is not None else values
        batch = list(_fixed(page[:chunk]))
        if batch:
            yield batch
        if len(batch) < chunk:
            return
        before = batch[-1][0]
