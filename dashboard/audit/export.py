"""Streaming exports of exactly the rows a filter selects: CSV and JSON Lines, newest first.

Both end with a signed trailer that lets the reader check the file is whole and unchanged:
CSV:   a last line ``#trailer,rows=<n>,sha256=<hex>,key=<key id>,hmac=<hex>``
JSONL: a last line ``{"trailer": {"rows": n, "sha256": "<hex>", "key": "...", "hmac": "<hex>"}}``
where sha256 is over the bytes (UTF-8) of every line before the trailer, header included, and
hmac is HMAC-SHA256 under ``AUDIT_SIGNING_KEY`` over ``export_message``. Recomputing the rows
and the SHA-256 after an edit is easy; the HMAC needs the key. ``manage.py verify_export FILE``
checks a file alone (``audit.export_verify``). Each row also carries ``seq``, ``prev_hash``,
``hash`` and ``hash_version``, so rows can be checked against the chain (``audit.chain``).

CSV files get opened in spreadsheets, and a reason or an ICWS-supplied name starting with ``=``
would run there as a formula: such cells get a leading ``'`` (OWASP's advice). JSON Lines
carries every value untouched, so that is the format to recompute row hashes from.

Rows are read as tuples in keyset pages (``rawrows``) and written a page at a time: no model
instance or JSON parsing per row, memory flat at any size.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import json
from collections.abc import Iterator
from json.encoder import encode_basestring as _s

from dashboard.audit import checkpoints
from dashboard.audit.chain import HASHED_FIELDS
from dashboard.audit.chainer import chain_pending
from dashboard.audit.rawrows import pages_newest_first
from dashboard.audit.selectors import AuditFilter, audit_queryset

# Every hashed field of format 2/3 (so a row can be checked against the chain), plus the row id
# and hashes. Names last: id -> name as stored on the row at write time (``audit.search``;
# hashed from format 4 on), JSON text, empty/null on rows older than migration 0005. JSON Lines
# also carries the folded search columns, which format 4 hashes too, so every row can be
# rehashed from the file alone.
NAME_COLUMNS = ["agent_names", "campaign_names"]
CSV_COLUMNS = [
    "seq", "id", *HASHED_FIELDS[1:], "hash_version", "prev_hash", "hash", *NAME_COLUMNS
]  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_message(fmt: str, rows: int, sha256: str) -> str:
    return f"audit-export:1:{fmt}:{rows}:{sha256}"


def _signed(fmt: str, rows: int, sha256: str) -> tuple[str, str]:
    key = checkpoints.signing_key()
    return checkpoints.key_id(key), checkpoints.sign(export_message(fmt, rows, sha256), key)


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _names_cell(text: str) -> str:
    return "" if text in ("~", "null") else text


def _csv_rows(batch: list[list]) -> list[list]:
    out = []
    for (pk, version, seq, at, kind, actor_id, username, job_id, agents, c_in, c_out, reason,
         r_before, r_after, status, error_id, icws_message, message, request_id, duration,
         details, prev, digest, a_names, c_names, *_) in batch:  # fmt: skip
        out.append(
            (seq, pk, at, kind, actor_id, _cell(username), job_id, agents, c_in, c_out,
             _cell(reason), r_before, r_after, status, _cell(error_id), _cell(icws_message),
             _cell(message), _cell(request_id), duration, details, version, prev, digest,
             _names_cell(a_names), _names_cell(c_names))
        )  # fmt: skip
    return out


# FORMULA_STARTS as code points: ascii() of the first character is an integer compared with
# integers, cheaper per cell than left(..., 1) (a new text) compared with six texts. ascii('')
# is 0, so an empty cell stays empty.
_FORMULA_CODES = ", ".join(str(ord(c)) for c in FORMULA_STARTS)


def _neutral(column: str) -> str:
    return (
        f"CASE WHEN ascii({column}) IN ({_FORMULA_CODES}) THEN '''' || {column} ELSE {column} END"
    )


# The CSV columns as PostgreSQL writes them: JSON columns in jsonb's own text (still JSON, keys
# in jsonb's order), empty text as "" (NULL as nothing). Same columns, same neutralised cells.
_PG_CSV_SELECT = [
    "e.seq",
    "e.id",
    "to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    "e.kind",
    "e.actor_id",
    _neutral("e.actor_username"),
    "e.job_id",
    "e.agent_ids",
    "e.campaign_ids_in",
    "e.campaign_ids_out",
    _neutral("e.reason"),
    "e.roster_before",
    "e.roster_after",
    "e.icws_status",
    _neutral("e.icws_error_id"),
    _neutral("e.icws_message"),
    _neutral("e.message"),
    _neutral("e.request_id"),
    "e.duration_ms",
    "e.details",
    "e.hash_version",
    "e.prev_hash",
    "e.hash",
    "e.agent_names",
    "e.campaign_names",
]


def _export_csv_pg(audit_filter: AuditFilter) -> Iterator[bytes]:
    """PostgreSQL writes the rows (COPY ... TO STDOUT, CSV): no Python work per row but the
    SHA-256. One statement, so one snapshot."""
    chain_pending()  # a fresh row goes out chained
    head = _csv_header()
    digest, rows = hashlib.sha256(head), 0
    yield head
    for piece, count in _pg_copy(audit_filter, _PG_CSV_SELECT, "FORMAT csv"):
        digest.update(piece)
        rows += count
        yield piece
    sha = digest.hexdigest()
    key, mac = _signed("csv", rows, sha)
    yield f"#trailer,rows={rows},sha256={sha},key={key},hmac={mac}\n".encode()


def _csv_header() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(CSV_COLUMNS)
    return buffer.getvalue().encode()


def export_csv(audit_filter: AuditFilter) -> Iterator[bytes]:
    from django.db import connection

    if connection.vendor == "postgresql":
        return _export_csv_pg(audit_filter)
    return _export_csv_python(audit_filter)


def _export_csv_python(audit_filter: AuditFilter) -> Iterator[bytes]:
    chain_pending()  # a fresh row goes out chained
    digest = hashlib.sha256()
    rows = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for batch in pages_newest_first(audit_queryset(audit_filter)):
        _write_rows(buffer, writer, _csv_rows(batch))
        rows += len(batch)
        chunk = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        digest.update(chunk)
        yield chunk
    head = buffer.getvalue().encode("utf-8")  # the header alone, when no row matched
    digest.update(head)
    sha = digest.hexdigest()
    key, mac = _signed("csv", rows, sha)
    yield head + f"#trailer,rows={rows},sha256={sha},key={key},hmac={mac}\n".encode()


def _write_rows(buffer: io.StringIO, writer, rows: list) -> None:
    """``writer.writerows(rows)``, except that a row with a carriage return in a cell has that
    cell quoted, as COPY does: csv.writer quotes only cells holding a character of its line
    terminator ("\n"), and a CSV reader ends the row at a lone unquoted "\r" (so the row
    was split in two, and verify_export counted one row too many). Such a row is written by
    a writer whose terminator is "\r\n" (which quotes cells holding "\r"), then ended with
    "\n" like the others."""
    cr_writer = None
    for row in rows:
        if not any(isinstance(cell, str) and "\r" in cell for cell in row):
            writer.writerow(row)
            continue
        cr_writer = cr_writer or csv.writer(buffer, lineterminator="\r\n")
        cr_writer.writerow(row)
        buffer.seek(buffer.tell() - 2)
        buffer.write("\n")
        buffer.truncate()


def _null(value) -> str:
    return "null" if value is None else str(value)


def _json(text: str) -> str:
    """A JSON column's text from ``rawrows`` ("~" is its SQL null)."""
    return "null" if text == "~" else text


def _jsonl_lines(batch: list[list]) -> str:
    """Each row as json.dumps(record, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False) would write it, assembled from the columns' text."""
    lines = []
    for (pk, version, seq, at, kind, actor_id, username, job_id, agents, c_in, c_out, reason,
         r_before, r_after, status, error_id, icws_message, message, request_id, duration,
         details, prev, digest, a_names, c_names, actor_search, agent_search, campaign_search,
         search_text) in batch:  # fmt: skip
        lines.append(
            f'{{"actor_id":{_null(actor_id)},"actor_search":{_s(actor_search)},'
            f'"actor_username":{_s(username)},'
            f'"agent_ids":{agents},"agent_names":{_json(a_names)},'
            f'"agent_search":{_s(agent_search)},"at":{_s(at)},'
            f'"campaign_ids_in":{c_in},"campaign_ids_out":{c_out},'
            f'"campaign_names":{_json(c_names)},"campaign_search":{_s(campaign_search)},'
            f'"details":{details},"duration_ms":{_null(duration)},'
            f'"hash":{_s(digest)},"hash_version":{version},"icws_error_id":{_s(error_id)},'
            f'"icws_message":{_s(icws_message)},"icws_status":{_null(status)},"id":{pk},'
            f'"job_id":{_null(job_id)},"kind":{_s(kind)},"message":{_s(message)},'
            f'"prev_hash":{_s(prev)},"reason":{_s(reason)},"request_id":{_s(request_id)},'
            f'"roster_after":{r_after},"roster_before":{r_before},'
            f'"search_text":{_s(search_text)},"seq":{_null(seq)}}}\n'
        )
    return "".join(lines)


# Each JSONL row built by PostgreSQL as text: keys in order, text values escaped as json.dumps
# does, JSON columns as jsonb prints them, the rest as digits. Parsed, it equals the Python
# path's line; on PostgreSQL it is the same bytes (tests hold both). Where the backend's time
# went: to_json on each of the 13 text columns, about 0.6 us a call before any character is
# looked at (it looks the type up in the catalogue four times), and concat(), which looks up
# each of its 60 arguments' output function. So a row is first checked once, by to_json over
# its texts joined: escaping only ever adds characters, so that comes back exactly 2 quotes
# longer when no text needs escaping, and such a row (nearly every row) is written with its
# texts between quotes as they are; a row with a text to escape gets to_json per text, as
# before. The pieces are joined with || (no lookup per piece; at about 1 KB a line, copying the
# line so far at each step costs less). Same bytes as before (SHA-256 of the 142,857-row
# export equal). The planner runs this COPY with two parallel workers (Parallel Seq Scan,
# Sort, Gather Merge); forcing no workers (streaming the primary key backwards) used less CPU
# in all but was slower on the clock on two cores (interleaved, quietest round 2.2 s vs 1.65 s).
_TIME_TEXT = "to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
_JSONL_PARTS = (
    ("actor_id", "number"), ("actor_search", "text"), ("actor_username", "text"),
    ("agent_ids", "json"), ("agent_names", "json"), ("agent_search", "text"), ("at", "time"),
    ("campaign_ids_in", "json"), ("campaign_ids_out", "json"), ("campaign_names", "json"),
    ("campaign_search", "text"), ("details", "json"), ("duration_ms", "number"),
    ("hash", "text"), ("hash_version", "number"), ("icws_error_id", "text"),
    ("icws_message", "text"), ("icws_status", "number"), ("id", "number"),
    ("job_id", "number"), ("kind", "text"), ("message", "text"), ("prev_hash", "text"),
    ("reason", "text"), ("request_id", "text"), ("roster_after", "json"),
    ("roster_before", "json"), ("search_text", "text"), ("seq", "number"),
)  # fmt: skip
_JSONL_TEXTS = [name for name, kind in _JSONL_PARTS if kind == "text"]


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'::text"


def _jsonl_line_sql(plain_texts: bool, nullable: frozenset[str]) -> str:
    """One line's SQL, newline included. ``plain_texts``: the texts between quotes as they
    are (the caller has checked that none needs escaping); else each through to_json. A value
    of a column in ``nullable`` may be NULL and is written as null; in the plain form the
    others are not wrapped in coalesce, so a NULL there makes the whole line NULL."""
    pieces: list[tuple[bool, str]] = []  # (constant, text or SQL)
    for i, (name, kind) in enumerate(_JSONL_PARTS):
        key = ("{" if i == 0 else ",") + f'"{name}":'
        if kind == "time":
            pieces += [(True, key + '"'), (False, _TIME_TEXT), (True, '"')]
        elif kind == "text" and plain_texts:
            pieces += [(True, key + '"'), (False, f"e.{name}::text"), (True, '"')]
        else:
            value = f"to_json(e.{name})::text" if kind == "text" else f"e.{name}::text"
            if not plain_texts or name in nullable:
                value = f"coalesce({value}, 'null')"
            pieces += [(True, key), (False, value)]
    pieces.append((True, "}\n"))
    joined: list[tuple[bool, str]] = []
    for constant, text in pieces:  # neighbouring constants as one
        if constant and joined and joined[-1][0]:
            joined[-1] = (True, joined[-1][1] + text)
        else:
            joined.append((constant, text))
    return " || ".join(_sql_text(text) if constant else text for constant, text in joined)


def _pg_jsonl_text() -> str:
    from dashboard.audit.models import AuditEvent

    nullable = frozenset(n for n, _ in _JSONL_PARTS if AuditEvent._meta.get_field(n).null)
    texts = " || ".join(f"e.{name}::text" for name in _JSONL_TEXTS)
    length = " + ".join(f"octet_length(e.{name})" for name in _JSONL_TEXTS)
    escaped = _jsonl_line_sql(False, nullable)
    # A NULL text fails the check (its length is NULL), a NULL elsewhere the plain line.
    return (
        f"CASE WHEN octet_length(to_json({texts})::text) = {length} + 2 "
        f"THEN coalesce({_jsonl_line_sql(True, nullable)}, {escaped}) ELSE {escaped} END"
    )


def _pg_copy(
    audit_filter: AuditFilter, select: list[str], options: str
) -> Iterator[tuple[bytes, int]]:
    """COPY the filtered rows, newest first, as (piece of about 256 KiB, rows in it). The
    filter's own SQL (its WHERE as the page uses it) with ``select`` as the columns."""
    piece, rows = bytearray(), 0
    with _copy(*_copy_sql(audit_filter, select, options)) as copy:
        for data in copy:  # one row per message
            piece += data
            rows += 1
            if len(piece) >= 262144:
                yield bytes(piece), rows
                piece, rows = bytearray(), 0
    yield bytes(piece), rows


@contextlib.contextmanager
def _copy(sql: str, params: tuple) -> Iterator:
    from django.db import connection

    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        yield copy


def _copy_sql(audit_filter: AuditFilter, select: list[str], options: str) -> tuple[str, tuple]:
    import re

    from django.db import connection
    from django.db.models.expressions import RawSQL

    from dashboard.audit.models import AuditEvent

    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    columns = {
        # Constant column expressions of this module; the filter values stay parameters.
        f"_c{i}": RawSQL(re.sub(r"\be\.", f"{table}.", expr), ())  # noqa: S611
        for i, expr in enumerate(select)
    }
    queryset = audit_queryset(audit_filter).annotate(**columns).order_by("-pk")
    query_sql, params = queryset.values_list(*columns).query.sql_with_params()
    return f"COPY ({query_sql}) TO STDOUT WITH ({options})", tuple(params)


# COPY's binary format (PostgreSQL's "COPY" page): a header, then per row its number of
# fields (16 bits) and each field's length (32 bits) and bytes, then -1 (16 bits). The header
# comes in the first row's message, the end in a message of its own.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, no flags, no extension
_BINARY_END = b"\xff\xff"


def _pg_copy_lines(audit_filter: AuditFilter, line: str) -> Iterator[tuple[bytes, int]]:
    """``_pg_copy`` of one text column, ``line``, that holds its own line end: COPY in binary
    format, so PostgreSQL sends each value as it is; in CSV format it also looked at every
    byte of the line for characters to quote (backend user CPU of the 142,857 JSONL lines of
    kind=succeeded at 1M rows, no parallel workers, interleaved: 1.71-1.99 s -> 1.34-1.56 s).
    Python then cuts the 6 bytes before each line."""
    from django.db import DatabaseError

    piece, rows = bytearray(), 0
    with _copy(*_copy_sql(audit_filter, [line], "FORMAT binary")) as copy:
        messages = iter(copy)
        first = next(messages, b"")
        if first[: len(_BINARY_HEADER)] != _BINARY_HEADER:
            raise DatabaseError("COPY (FORMAT binary) sent no header")
        ended = False
        for data in itertools.chain((first[len(_BINARY_HEADER) :],), messages):
            if len(data) > 6:  # one field (the query has one column), its length, the line
                piece += data[6:]
                rows += 1
                if len(piece) >= 262144:
                    yield bytes(piece), rows
                    piece, rows = bytearray(), 0
            elif data == _BINARY_END and not ended:
                ended = True
            else:  # a NULL line (length -1) or a second end
                raise DatabaseError("COPY (FORMAT binary) sent an unexpected row")
        if not ended:
            raise DatabaseError("COPY (FORMAT binary) ended without its end marker")
    yield bytes(piece), rows


def _export_jsonl_pg(audit_filter: AuditFilter) -> Iterator[bytes]:
    chain_pending()  # a fresh row goes out chained
    digest, rows = hashlib.sha256(), 0
    for piece, count in _pg_copy_lines(audit_filter, _pg_jsonl_text()):
        digest.update(piece)
        rows += count
        yield piece
    sha = digest.hexdigest()
    key, mac = _signed("jsonl", rows, sha)
    trailer = {"rows": rows, "sha256": sha, "key": key, "hmac": mac}
    yield (json.dumps({"trailer": trailer}) + "\n").encode()


def export_jsonl(audit_filter: AuditFilter) -> Iterator[bytes]:
    from django.db import connection

    if connection.vendor == "postgresql":
        return _export_jsonl_pg(audit_filter)
    return _export_jsonl_python(audit_filter)


def _export_jsonl_python(audit_filter: AuditFilter) -> Iterator[bytes]:
    chain_pending()  # a fresh row goes out chained
    digest = hashlib.sha256()
    rows = 0
    for batch in pages_newest_first(audit_queryset(audit_filter)):
        chunk = _jsonl_lines(batch).encode("utf-8")
        rows += len(batch)
        digest.update(chunk)
        yield chunk
    sha = digest.hexdigest()
    key, mac = _signed("jsonl", rows, sha)
    trailer = {"rows": rows, "sha256": sha, "key": key, "hmac": mac}
    yield (json.dumps({"trailer": trailer}) + "\n").encode()
