"""Streaming exports of exactly the rows a filter selects: CSV and JSON Lines.

Both end with a trailer that lets the reader check the file is whole and unchanged:
CSV:   a last line ``#trailer,rows=<n>,sha256=<hex>``
JSONL: a last line ``{"trailer": {"rows": n, "sha256": "<hex>"}}``
where sha256 is over the bytes (UTF-8) of every line before the trailer, header included. Each
row also carries ``seq``, ``prev_hash`` and ``hash``, so rows can be checked against the chain
(``dashboard/audit/chain.py`` documents the hash).

CSV files get opened in spreadsheets, and a reason or an ICWS-supplied name starting with ``=``
would run there as a formula: such cells get a leading ``'`` (OWASP's advice). JSON Lines
carries every value untouched, so that is the format to recompute row hashes from.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator

from dashboard.audit.chain import HASHED_FIELDS
from dashboard.audit.integrity import export_record
from dashboard.audit.selectors import AuditFilter, audit_iter

# Every hashed field (so a row can be checked against the chain), plus the row id and hashes.
CSV_COLUMNS = ["seq", "id", *HASHED_FIELDS[1:], "prev_hash", "hash"]


def _csv_line(values: list) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def export_csv(audit_filter: AuditFilter) -> Iterator[str]:
    digest = hashlib.sha256()
    rows = 0
    line = _csv_line(CSV_COLUMNS)
    digest.update(line.encode("utf-8"))
    yield line
    for event in audit_iter(audit_filter):
        record = export_record(event)
        line = _csv_line([_cell(record[c]) for c in CSV_COLUMNS])
        digest.update(line.encode("utf-8"))
        rows += 1
        yield line
    yield f"#trailer,rows={rows},sha256={digest.hexdigest()}\n"


def export_jsonl(audit_filter: AuditFilter) -> Iterator[str]:
    digest = hashlib.sha256()
    rows = 0
    for event in audit_iter(audit_filter):
        line = json.dumps(export_record(event), sort_keys=True, ensure_ascii=False) + "\n"
        digest.update(line.encode("utf-8"))
        rows += 1
        yield line
    yield json.dumps({"trailer": {"rows": rows, "sha256": digest.hexdigest()}}) + "\n"
