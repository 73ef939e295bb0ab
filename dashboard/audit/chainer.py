"""The chainer: links committed, unchained audit rows into the hash chain, in batches.

Writers (``services.audit_record``) insert a row with seq null and a seal (an HMAC of its id and
content, ``chain.seal_message``), and never touch the chain head, so no writer waits for
another's hash. The chainer locks the head, takes the unchained rows in id order, checks each
seal, gives each a seq, prev_hash and hash (in the row's format, 4 for rows written today, 3
for rows written before it; both hash the id too), moves the head
and, when one is due, writes a signed checkpoint, all in one transaction.

Seq order is the order rows reached the chainer, which is commit order, not always id order: a
row whose transaction began first may commit after a later one was chained.

A row whose seal does not verify was inserted or changed in the database without the key: it is
left unchained (and logged); ``verify_audit`` names it. The chain goes on past it.

It runs on beat (``tasks.audit_chain_task``), and on demand before ``verify_audit`` and an
export, so a fresh row is chained before it is verified or exported.
"""

from __future__ import annotations

import logging
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from dashboard.audit import chain, checkpoints, rawrows
from dashboard.audit.chain import chained_hash, seal_message, text_with_seq
from dashboard.audit.models import AuditChainHead, AuditEvent

logger = logging.getLogger(__name__)

BATCH = 5000


def seal_ok(version: int, pk: int, text: str, seal: str, key: bytes) -> bool:
    """Whether ``seal`` is the seal of row ``pk`` with canonical ``text`` (any seq in it; the
    seal covers it as null). Only format 3 and 4 rows carry seals."""
    return version in (3, 4) and checkpoints.signature_ok(
        seal_message(pk, text_with_seq(version, text, None), version), seal, key
    )


def row_text(row) -> str:
    """A ``rawrows`` tuple's canonical text (version 2's array; version 4's for a version-4
    row, whose JSON columns ``rawrows`` gives in jsonb form)."""
    return chain.row_text(row[1], row[rawrows.FIELDS], row[rawrows.EXTRA])


def chain_pending(*, batch: int = BATCH) -> int:
    """Link every unchained row with a good seal; returns how many were linked."""
    linked, after = 0, 0
    while True:
        done, after = _chain_batch(batch, after)
        linked += done
        if after is None:
            return linked


def _chain_batch(batch: int, after: int) -> tuple[int, int | None]:
    """One transaction: up to ``batch`` unchained rows with ids above ``after``. Returns how
    many were linked and the last id read (None when no more rows wait)."""
    key = checkpoints.signing_key()
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            if AuditEvent.objects.filter(seq__isnull=False).exists():
                # Deleted behind our back: a new head at 0 would fork the chain. verify names it.
                logger.error("the audit chain head row is missing; nothing is chained")
                return 0, None
            AuditChainHead.objects.get_or_create(pk=1)
            head = AuditChainHead.objects.select_for_update().get(pk=1)
        waiting = AuditEvent.objects.filter(seq__isnull=True, id__gt=after).order_by("id")
        rows = list(islice(rawrows.rows(waiting, chunk=batch), batch))
        if not rows:
            return 0, None
        seals = dict(
            AuditEvent.objects.filter(id__in=[r[0] for r in rows]).values_list("id", "seal")
        )
        seq, prev, updates = head.seq, head.hash, []
        for row in rows:
            pk = row[0]
            text = row_text(row)
            if not seal_ok(row[1], pk, text, seals.get(pk, ""), key):
                logger.error("audit row id %s has no valid seal; it is not chained", pk)
                continue
            seq += 1
            text = text_with_seq(row[1], text, seq)
            digest = chained_hash(row[1], prev, pk, text)
            updates.append((seq, prev, digest, pk))
            prev = digest
        if updates:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET seq = %s, prev_hash = %s, hash = %s "  # noqa: S608
                    "WHERE id = %s AND seq IS NULL",
                    updates,
                )
            AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)
            head.seq, head.hash = seq, prev
            now = timezone.now()
            if checkpoints.checkpoint_due(head, now):
                checkpoints.checkpoint_write(head, now)
        return len(updates), (rows[-1][0] if len(rows) == batch else None)
