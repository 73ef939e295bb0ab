"""Pruning the chain's oldest part (``archive_audit``); walking it (``verify_audit``) lives in
``audit.verify`` and is re-exported here.

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

from dashboard.audit.chain import content_of, utc_text
from dashboard.audit.chainer import chain_pending
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.audit.verify import ChainReport, chain_verify  # noqa: F401 - the public names

Kind = AuditEvent.Kind


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
    chain_pending()  # only chained rows are archived; their range ends the chain's start
    last_seq = (
        AuditEvent.objects.filter(at__lt=older_than, seq__isnull=False)
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
        with connection.cursor() as cursor:
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
    chain_pending()  # the ARCHIVED row is where the chain now starts from: link it now
    return ArchiveResult(count, path, first_seq, last_seq, digest.hexdigest())


def export_record(event: AuditEvent) -> dict:
    """One event as exported (JSON Lines, archives): every hashed field plus the chain fields."""
    record = {**content_of(event), "job_id": event.job_id}
    record["at"] = utc_text(event.at)  # as hashed, so a reader can recompute the chain
    record.update(id=event.pk, prev_hash=event.prev_hash, hash=event.hash)
    return record
