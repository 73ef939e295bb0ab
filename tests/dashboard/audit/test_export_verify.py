"""``manage.py verify_export FILE``: a file checked alone; an edit re-hashed still fails."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command

from dashboard.audit import export as export_module
from dashboard.audit.chain import row_hash
from dashboard.audit.export import export_csv, export_jsonl
from dashboard.audit.export_verify import export_verify
from dashboard.audit.selectors import AuditFilter

pytestmark = pytest.mark.postgres_too


def _write(tmp_path, moved, fmt: str):
    exporter = export_csv if fmt == "csv" else export_jsonl
    path = tmp_path / f"audit.{fmt}"
    path.write_bytes(b"".join(exporter(AuditFilter())))
    return path


def _split(path):
    data = path.read_bytes()
    start = data.rfind(b"\n", 0, len(data) - 1) + 1
    return data[:start], data[start:].decode()


def _forge_trailer(fmt: str, trailer: str, body: bytes, rows: int) -> str:
    """Recompute rows and SHA-256 the way a forger would; the HMAC cannot be, so it stays."""
    sha = hashlib.sha256(body).hexdigest()
    if fmt == "csv":
        parts = dict(p.split("=", 1) for p in trailer.strip().split(",")[1:])
        parts.update(rows=str(rows), sha256=sha)
        return "#trailer," + ",".join(f"{k}={v}" for k, v in parts.items()) + "\n"
    fields = json.loads(trailer)["trailer"]
    fields.update(rows=rows, sha256=sha)
    return json.dumps({"trailer": fields}) + "\n"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_untouched_export_verifies(tmp_path, moved, fmt, capsys):
    path = _write(tmp_path, moved, fmt)
    assert export_verify(path).ok
    call_command("verify_export", str(path))
    assert f"verifies: 3 rows ({fmt})" in capsys.readouterr().out


def test_an_edited_csv_with_rows_and_sha256_recomputed_fails_on_the_signature(tmp_path, moved):
    path = _write(tmp_path, moved, "csv")
    body, trailer = _split(path)
    edited = body.replace(b"Winback short-staffed", b"Approved by the director", 1)
    assert edited != body
    path.write_bytes(edited + _forge_trailer("csv", trailer, edited, 3).encode())
    report = export_verify(path)
    assert not report.ok
    assert "signature does not match" in report.problem
    with pytest.raises(CommandError, match="signature does not match"):
        call_command("verify_export", str(path))


def test_an_edited_jsonl_rehashed_row_and_trailer_fails_on_the_signature(tmp_path, moved):
    """The forger recomputes the row's own chain hash too: only the HMAC catches it."""
    path = _write(tmp_path, moved, "jsonl")
    body, trailer = _split(path)
    lines = body.decode().splitlines(keepends=True)
    record = json.loads(lines[-1])  # the oldest row: no exported row follows it in the chain
    record["reason"] = "Approved by the director"
    record["hash"] = row_hash(record["prev_hash"], record)
    lines[-1] = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
    # ...and the next row's prev_hash, so the exported rows still link.
    newer = json.loads(lines[-2])
    newer["prev_hash"] = record["hash"]
    newer["hash"] = row_hash(newer["prev_hash"], newer)
    lines[-2] = json.dumps(newer, sort_keys=True, ensure_ascii=False) + "\n"
    newest = json.loads(lines[-3])
    newest["prev_hash"] = newer["hash"]
    newest["hash"] = row_hash(newest["prev_hash"], newest)
    lines[-3] = json.dumps(newest, sort_keys=True, ensure_ascii=False) + "\n"
    edited = "".join(lines).encode()
    path.write_bytes(edited + _forge_trailer("jsonl", trailer, edited, 3).encode())
    report = export_verify(path)
    assert not report.ok
    assert "signature does not match" in report.problem


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_dropped_row_with_the_trailer_recomputed_fails(tmp_path, moved, fmt):
    path = _write(tmp_path, moved, fmt)
    body, trailer = _split(path)
    lines = body.splitlines(keepends=True)
    shorter = b"".join(lines[:-1])
    path.write_bytes(shorter + _forge_trailer(fmt, trailer, shorter, 2).encode())
    assert "signature does not match" in export_verify(path).problem


def test_an_edit_without_recomputing_is_named(tmp_path, moved):
    path = _write(tmp_path, moved, "jsonl")
    data = path.read_bytes().replace(b"Winback short-staffed", b"Approved by the director", 1)
    path.write_bytes(data)
    report = export_verify(path)
    assert not report.ok
    assert "content does not match its hash" in report.problem


def test_an_unsigned_trailer_is_refused(tmp_path, moved):
    path = _write(tmp_path, moved, "csv")
    body, _ = _split(path)
    sha = hashlib.sha256(body).hexdigest()
    path.write_bytes(body + f"#trailer,rows=3,sha256={sha}\n".encode())
    assert "the trailer has no key (unsigned?)" in export_verify(path).problem


def test_a_file_signed_with_another_key_is_named(tmp_path, moved, settings):
    path = _write(tmp_path, moved, "csv")
    settings.AUDIT_SIGNING_KEY = "another-key-" * 4
    assert "not this server's key" in export_verify(path).problem


def test_a_cut_short_file_is_refused(tmp_path, moved):
    path = _write(tmp_path, moved, "jsonl")
    path.write_bytes(path.read_bytes()[:-5])
    assert not export_verify(path).ok


def _parsed(chunks) -> list[dict]:
    import csv
    import io

    *lines, _ = b"".join(chunks).decode().splitlines(keepends=True)
    rows = list(csv.DictReader(io.StringIO("".join(lines))))
    json_columns = ("agent_ids", "campaign_ids_in", "campaign_ids_out", "details")
    for row in rows:
        for name in (*json_columns, "roster_before", "roster_after"):
            row[name] = json.loads(row[name])
    return rows


def test_postgresql_copy_writes_the_same_csv_values_as_python(moved):
    """On PostgreSQL the CSV comes from COPY; its cells must read back as Python's do."""
    from django.db import connection

    from dashboard.audit import export
    from dashboard.audit.services import audit_record

    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    audit_record(
        kind="refused",
        agent_ids=["a1", "é"],
        reason='=SUM(A1),\n"quoted" ünï',
        message="-1 line\r\nnext",
        details={"b": 1, "a": [1, "x"]},
    )
    for start in (*export.FORMULA_STARTS, "", "é", "'", " ="):  # each start, and near ones
        audit_record(kind="refused", agent_ids=["a1"], reason=f"{start}x\n", message=f"{start}\n")
    copy = _parsed(export._export_csv_pg(AuditFilter()))
    python = _parsed(export._export_csv_python(AuditFilter()))
    assert copy == python
    reasons = {r["reason"] for r in copy}
    # (a newline in each: the Python writer leaves a lone "\r" unquoted, a defect of its own)
    expected = {"'=x", "'+x", "'-x", "'@x", "'\tx", "'\rx", "x", "éx", "'x", " =x"}
    assert {f"{r}\n" for r in expected} <= reasons
    copy = [r for r in copy if r["reason"].endswith("ünï")]
    assert copy[0]["reason"] == '\'=SUM(A1),\n"quoted" ünï'
    assert copy[0]["message"] == "'-1 line\r\nnext"


def test_postgresql_copy_writes_the_same_jsonl_records_as_python(moved):
    from django.db import connection

    from dashboard.audit import export
    from dashboard.audit.services import audit_record

    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    audit_record(
        kind="refused",
        agent_ids=["a1", "é"],
        reason='=SUM(A1),\n"quoted" ünï \\ \x01',
        details={"b": 1, "a": [1, "x", 2.5, None]},
    )

    def records(chunks):
        *lines, trailer = b"".join(chunks).decode().splitlines()
        return [json.loads(line) for line in lines], json.loads(trailer)["trailer"]["rows"]

    copy, copy_rows = records(export._export_jsonl_pg(AuditFilter()))
    python, python_rows = records(export._export_jsonl_python(AuditFilter()))
    assert copy == python
    assert copy_rows == python_rows == 4
    assert all(row_hash(r["prev_hash"], r) == r["hash"] for r in copy)


def test_postgresql_copy_writes_the_python_writers_bytes(moved):
    """Not just the same records: the same file up to the trailer's key, rows with texts to
    escape (quotes, a backslash, control characters) and rows without alike (COPY writes the
    second kind with its texts as they are, after one check of the row)."""
    from django.db import connection

    from dashboard.audit import export
    from dashboard.audit.services import audit_record

    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    audit_record(kind="refused", agent_ids=["a1"], reason='say "hi" \\ \x01\x1f\t', message="ünï")
    copy = b"".join(export._export_jsonl_pg(AuditFilter()))
    python = b"".join(export._export_jsonl_python(AuditFilter()))
    assert copy.count(b"\n") == 5  # 4 rows and the trailer
    assert copy == python


def _exported_text_columns() -> list[str]:
    from django.db.models import CharField, TextField

    from dashboard.audit.models import AuditEvent

    exported = {name for name, _ in export_module._JSONL_PARTS}
    return [
        f.name
        for f in AuditEvent._meta.fields
        if isinstance(f, CharField | TextField) and f.name in exported
    ]


@pytest.mark.parametrize("column", _exported_text_columns())
def test_postgresql_copy_escapes_a_quote_or_control_character_in_any_text_column(moved, column):
    """Each text column is part of the row's check: a value with a quote, a backslash and
    control characters in any one of them (written straight into the table, as an insider
    could) still comes out as that value, in valid JSON, on the row's own line."""
    from django.db import connection

    from dashboard.audit import export
    from dashboard.audit.chainer import chain_pending
    from dashboard.audit.models import AuditEvent

    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    value = 'x"y\\z\n\x01\u2028'
    chain_pending()  # chained first, so the chainer does not write hash and prev_hash after
    target = AuditEvent.objects.order_by("pk").first()
    with connection.cursor() as cursor:  # the model refuses updates: the table does not
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET {column} = %s WHERE id = %s",  # noqa: S608
            [value, target.pk],
        )
    *lines, trailer = b"".join(export._export_jsonl_pg(AuditFilter())).decode().split("\n")[:-1]
    records = {r["id"]: r for r in map(json.loads, lines)}
    assert len(records) == 3 == json.loads(trailer)["trailer"]["rows"]
    assert records[target.pk][column] == value
    python = b"".join(export._export_jsonl_python(AuditFilter())).decode().split("\n")[:-2]
    assert lines == python


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_line_breaks_other_than_newline_in_a_cell_keep_the_file_verifying(tmp_path, mover, fmt):
    """A lone carriage return (quoted in CSV, as COPY does: csv.writer left it bare and a
    reader split the row there) and the Unicode line breaks JSON leaves unescaped (U+2028,
    U+0085, which str.splitlines() splits at) stay inside their row, in either writer."""
    import csv
    import io

    from django.db import connection

    from dashboard.audit import export
    from dashboard.audit.services import audit_record

    texts = ["before\rafter", "para\u2028graph", "next\x85line", "form\x0cfeed\x1cx"]
    for text in texts:
        audit_record(kind="refused", agent_ids=["a1"], reason=text, message=text)
    writers = {"csv": [export._export_csv_python], "jsonl": [export._export_jsonl_python]}
    if connection.vendor == "postgresql":
        writers["csv"].append(export._export_csv_pg)
        writers["jsonl"].append(export._export_jsonl_pg)
    for writer in writers[fmt]:
        path = tmp_path / f"audit-{writer.__name__}.{fmt}"
        path.write_bytes(b"".join(writer(AuditFilter())))
        report = export_verify(path)
        assert report.ok, (writer.__name__, report.problem)
        assert report.rows == len(texts)
        body = path.read_bytes().decode("utf-8").rsplit("\n", 2)[0] + "\n"
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(body, newline="")))
            reasons = [row["reason"] for row in rows]
        else:
            reasons = [json.loads(line)["reason"] for line in body.split("\n")[:-1]]
        assert sorted(reasons) == sorted(texts), writer.__name__
