"""Walking the chain (``manage.py verify_audit``) and pruning its oldest part (``archive_audit``).

After an archive, the first remaining row's ``prev_hash`` is the hash of the last archived row;
the ARCHIVED event written then records that hash, so the walk can still start from a known
value and any change to the rows that remain is found.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from dashboard.audit.chain import content_of, row_hash, utc_text
from dashboard.audit.models import AuditChainHead, AuditEvent, AuditSubject
from dashboard.audit.services import audit_record

Kind = AuditEvent.Kind


@dataclass
class ChainReport:
    ok: bool
    rows: int
    first_seq: int | None = None
    last_seq: int | None = None
    broken_id: int | None = None
    broken_seq: int | None = None
    problem: str = ""


def chain_verify(*, chunk: int = 5000) -> ChainReport:
    """Recompute every hash in seq order, in constant memory; stop at the first broken row."""
    start_hash = _start_hash()
    expected_prev = start_hash
    expected_seq = None
    rows = 0
    first = last = None
    after = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=after).order_by("seq")[:chunk])
        for event in batch:
            if expected_seq is not None and event.seq != expected_seq:
                return _broken(event, rows, first, f"seq {expected_seq} is missing (deleted?)")
            if event.prev_hash != expected_prev:
                what = "does not follow the archived range" if rows == 0 else "previous row"
                return _broken(event, rows, first, f"prev_hash does not match the {what}")
            content = {**content_of(event), "job_id": event.job_id}
            if row_hash(event.prev_hash, content) != event.hash:
                return _broken(event, rows, first, "content does not match its hash (changed?)")
            rows += 1
            first = first if first is not None else event.seq
            last = event.seq
            expected_prev, expected_seq = event.hash, event.seq + 1
        if len(batch) < chunk:
            break
        after = batch[-1].seq
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and rows and (head.seq != last or head.hash != expected_prev):
        return ChainReport(
            False,
            rows,
            first,
            last,
            problem=f"the chain head says seq {head.seq}, rows end at {last}",
        )
    return ChainReport(True, rows, first, last)


def _start_hash() -> str:
    """ "" for a chain that starts at seq 1; else the hash an archive event recorded."""
    first = AuditEvent.objects.order_by("seq").values_list("seq", flat=True).first()
    if first is None or first == 1:
        return ""
    for details in AuditEvent.objects.filter(kind=Kind.ARCHIVED).values_list("details", flat=True):
        if details.get("last_seq") == first - 1:
            return details.get("last_hash", "")
    return "(no archive event covers the rows before the first one)"


def _broken(event: AuditEvent, rows: int, first, problem: str) -> ChainReport:
    return ChainReport(
        False, rows, first, None, broken_id=event.pk, broken_seq=event.seq, problem=problem
    )


@dataclass
class ArchiveResult:
    count: int
    path: Path | None
    first_seq: int | None = None
    last_seq: int | None = None
    sha256: str = ""


def audit_archive(*, older_than: datetime, directory: Path, actor=None) -> ArchiveResult:
    """Export the rows older than ``older_than`` to a JSON Lines file, then delete them, and
    append an ARCHIVED event that records the range, its last hash and the file's SHA-256.

    The delete is raw SQL on purpose: the ORM refuses to delete audit rows, and this is the one
    operator task that may (run it with a database role that has DELETE on the table).
    """
    last_seq = (
        AuditEvent.objects.filter(at__lt=older_than)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    if last_seq is None:
        return ArchiveResult(0, None)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"audit-archive-{stamp}-to-seq-{last_seq}.jsonl"
    digest = hashlib.sha256()
    count, first_seq, last_hash = 0, None, ""
    with path.open("w", encoding="utf-8") as out:
        after = 0
        while True:
            batch = list(
                AuditEvent.objects.filter(seq__gt=after, seq__lte=last_seq).order_by("seq")[:5000]
            )
            for event in batch:
                line = json.dumps(export_record(event), sort_keys=True, ensure_ascii=False) + "\n"
                out.write(line)
                digest.update(line.encode("utf-8"))
                count += 1
                first_seq = first_seq or event.seq
                last_hash = event.hash
            if len(batch) < 5000:
                break
            after = batch[-1].seq
    with transaction.atomic():
        events = AuditEvent._meta.db_table
        subjects = AuditSubject._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {subjects} WHERE event_id IN "  # noqa: S608 - table names only
                f"(SELECT id FROM {events} WHERE seq <= %s)",
                [last_seq],
            )
            cursor.execute(f"DELETE FROM {events} WHERE seq <= %s", [last_seq])  # noqa: S608
        audit_record(
            kind=Kind.ARCHIVED,
            actor=actor,
            message=f"Archived {count} entries (seq {first_seq} to {last_seq}) to {path.name}",
            details={
                "count": count,
                "first_seq": first_seq,
                "last_seq": last_seq,
                "last_hash": last_hash,
                "file": path.name,
                "sha256": digest.hexdigest(),
            },
        )
    return ArchiveResult(count, path, first_seq, last_seq, digest.hexdigest())


def export_record(event: AuditEvent) -> dict:
    """One event as exported (JSON Lines, archives): every hashed field plus the chain fields."""
    record = {**content_of(event), "job_id": event.job_id}
    record["at"] = utc_text(event.at)  # as hashed, so a reader can recompute the chain
    record.update(id=event.pk, prev_hash=event.prev_hash, hash=event.hash)
    return record
