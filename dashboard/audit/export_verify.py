"""``manage.py verify_export FILE``: check an exported file alone, without the database.

The file passes when its trailer's SHA-256 matches the bytes before it, its row count matches,
and its HMAC verifies under ``AUDIT_SIGNING_KEY``: an edited file whose rows and SHA-256 were
recomputed fails on the HMAC. JSON Lines rows are also rehashed (``chain.row_hash``) and, where
two exported rows are neighbours in the chain, linked, so a failure can name the row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from dashboard.audit import checkpoints
from dashboard.audit.chain import row_hash
from dashboard.audit.export import CSV_COLUMNS, export_message


@dataclass
class ExportReport:
    ok: bool
    fmt: str = ""
    rows: int = 0
    problem: str = ""


def export_verify(path: Path) -> ExportReport:
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        return ExportReport(False, problem="the file does not end with a trailer line (cut short?)")
    start = data.rfind(b"\n", 0, len(data) - 1) + 1
    body, trailer_line = data[:start], data[start:].decode("utf-8", "replace").strip()
    if trailer_line.startswith("#trailer,"):
        fmt = "csv"
        try:
            trailer = dict(part.split("=", 1) for part in trailer_line.split(",")[1:])
            trailer["rows"] = int(trailer["rows"])
        except (ValueError, KeyError):
            return ExportReport(False, fmt, problem="the CSV trailer line is malformed")
    elif trailer_line.startswith("{"):
        fmt = "jsonl"
        try:
            trailer = json.loads(trailer_line)["trailer"]
        except (ValueError, KeyError, TypeError):
            return ExportReport(False, fmt, problem="the JSON Lines trailer line is malformed")
    else:
        return ExportReport(False, problem="no export trailer on the last line")
    for name in ("rows", "sha256", "key", "hmac"):
        if name not in trailer:
            return ExportReport(False, fmt, problem=f"the trailer has no {name} (unsigned?)")
    rows, problem = (_csv_rows if fmt == "csv" else _jsonl_rows)(body)
    if problem:
        return ExportReport(False, fmt, rows, problem)
    if hashlib.sha256(body).hexdigest() != trailer["sha256"]:
        return ExportReport(False, fmt, rows, "the SHA-256 does not match the file (edited?)")
    if rows != trailer["rows"]:
        return ExportReport(
            False, fmt, rows, f"the trailer says {trailer['rows']} rows, the file has {rows}"
        )
    key = checkpoints.signing_key()
    if trailer["key"] != checkpoints.key_id(key):
        return ExportReport(
            False,
            fmt,
            rows,
            f"signed with key {trailer['key']}, not this server's key {checkpoints.key_id(key)}",
        )
    message = export_message(fmt, trailer["rows"], trailer["sha256"])
    if not checkpoints.signature_ok(message, trailer["hmac"], key):
        return ExportReport(
            False, fmt, rows, "the trailer's signature does not match (edited and re-hashed?)"
        )
    return ExportReport(True, fmt, rows)


def _csv_rows(body: bytes) -> tuple[int, str]:
    reader = csv.reader(io.StringIO(body.decode("utf-8")))
    header = next(reader, None)
    if header != CSV_COLUMNS:
        return 0, "the CSV header is not an audit export's"
    return sum(1 for _ in reader), ""


def _jsonl_rows(body: bytes) -> tuple[int, str]:
    rows, newer = 0, None
    # Lines end at "\n" only: str.splitlines() also splits at U+2028, U+0085 and the like,
    # which JSON leaves unescaped in a text (an ICWS message holding one is a whole row).
    for number, line in enumerate(body.decode("utf-8").split("\n")[:-1], start=1):
        try:
            record = json.loads(line)
            # A row committed after the export's chainer ran has no hash yet; the signed
            # trailer still covers its bytes.
            unchained = record["seq"] is None and record["hash"] == ""
            ok = unchained or row_hash(record["prev_hash"], record) == record["hash"]
        except (ValueError, KeyError, TypeError):
            return rows, f"line {number} is not an audit row"
        if not ok:
            return rows, f"line {number} (id {record.get('id')}): content does not match its hash"
        linked = newer is not None and not unchained and newer["seq"] == record["seq"] + 1
        if linked and newer["prev_hash"] != record["hash"]:
            return rows, f"line {number - 1} does not follow line {number} in the chain"
        rows, newer = rows + 1, record
    return rows, ""
