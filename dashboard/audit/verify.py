"""``manage.py verify_audit``: walk the chain against the newest signed checkpoint.

One pass in seq order over plain tuples (``rawrows``), hashing in a tight loop, beside a second
stream of the subject index in event order. Broken, with what broke named, when:

- a row's content does not match its hash, or its ``prev_hash`` the row before (changed, or
  rehashed to hide a change), a seq is missing (deleted), ids are swapped (format 3 hashes the
  id; before it, row ids had to rise with seq), or ``hash_version`` goes back down;
- a row after the newest checkpoint, or not chained yet, has no valid seal (HMAC of its id and
  content, ``audit.chainer``): inserted, or changed before the chainer reached it, without the
  key (a forged row appended and hashed to fit the chain is one);
- the signed checkpoint disagrees: its row has another hash (the chain was rewritten), the rows
  end before it (tail deleted, with or without resetting the head; every row deleted), a row
  after it is dated before it (a forged backdated row appended), or the head is older than it;
- the chain head is missing while rows exist, says a seq the rows do not end at, or names rows
  when there are none;
- the subject index (agent and campaign filters, agent history) differs from what the rows say.

The chainer runs first, so rows written until then are chained and verified in full; the
checkpoint file is read before the database snapshot is taken, so every row a checkpoint names
is committed and visible to the walk.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from itertools import groupby

from django.db import connection, transaction
from django.db.models import F, Q, TextField
from django.db.models.functions import Cast

from dashboard.audit import rawrows
from dashboard.audit.chain import canonical_v2_from_text, row_hash
from dashboard.audit.chainer import chain_pending, seal_ok
from dashboard.audit.checkpoints import Checkpoint, newest_checkpoint, signing_key
from dashboard.audit.models import AuditChainHead, AuditEvent, AuditSubject

Kind = AuditEvent.Kind
# The columns the subject index is derived from, in ``_Walk._subjects``' argument order.
SUBJECT_SOURCES = ("agent_ids", "roster_before", "roster_after", "campaign_ids_in",
                   "campaign_ids_out")  # fmt: skip


@dataclass
class ChainReport:
    ok: bool
    rows: int
    first_seq: int | None = None
    last_seq: int | None = None
    broken_id: int | None = None
    broken_seq: int | None = None
    problem: str = ""
    where: str = ""  # what broke when it is not one row: "the chain head", "the checkpoint"
    checkpoint: Checkpoint | None = None
    checkpoint_source: str = ""
    note: str = ""
    subjects: int = 0
    unchained: int = 0  # rows with good seals the chainer had not reached


class _Broken(Exception):
    def __init__(self, problem: str, *, row: tuple | None = None, where: str = ""):
        super().__init__(problem)
        self.problem, self.row, self.where = problem, row, where


def chain_verify(*, chunk: int = 5000, chain_first: bool = True) -> ChainReport:
    """Verify every row, the head, the subject index and the newest checkpoint."""
    if chain_first:
        chain_pending()
    newest = newest_checkpoint()
    if newest.problem:
        return ChainReport(False, 0, problem=newest.problem, where="the checkpoints")
    walk = _Walk(newest.checkpoint)
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # one snapshot for head, rows and index
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        try:
            walk.load_seals()
            walk.run(chunk)
            _check_ends(walk, AuditChainHead.objects.filter(pk=1).first())
            walk.check_sealed()
            walk.check_unchained()
            walk.check_subjects(chunk)
        except _Broken as broken:
            row = broken.row
            return ChainReport(
                False,
                walk.rows,
                walk.first,
                None if row else walk.last,
                broken_id=row[0] if row else None,
                broken_seq=row[2] if row else None,
                problem=broken.problem,
                where=broken.where,
                checkpoint=newest.checkpoint,
                checkpoint_source=newest.source,
            )
    return ChainReport(
        True,
        walk.rows,
        walk.first,
        walk.last,
        checkpoint=newest.checkpoint,
        checkpoint_source=newest.source,
        note=newest.note,
        subjects=walk.subjects,
        unchained=walk.unchained,
    )


class _Walk:
    def __init__(self, checkpoint: Checkpoint | None):
        self.checkpoint = checkpoint
        self.rows = self.subjects = self.unchained = 0
        self.key = signing_key()
        self.seals: dict[int, str] = {}
        self.unsealed: list | None = None  # the first chained row after the checkpoint without
        # a good seal: added in the database and hashed to fit (reported after the chain checks)
        self.first = self.last = None
        self.last_hash = ""
        self._parsed: dict[str, object] = {}

    def run(self, chunk: int) -> None:
        cp_seq = self.checkpoint.seq if self.checkpoint else -1
        cp_hash = self.checkpoint.hash if self.checkpoint else ""
        cp_at = self.checkpoint.at if self.checkpoint else ""
        expected_prev = _start_hash()
        expected_seq = None
        last_id = version_floor = 0
        sha256, canon = hashlib.sha256, canonical_v2_from_text
        seals, key = self.seals, self.key
        events = rawrows.rows(
            AuditEvent.objects.filter(seq__isnull=False).order_by("seq"), chunk=chunk
        )
        for rows, row in enumerate(events):  # rows: how many came before this one
            (pk, version, seq, at, kind, actor_id, username, job_id, agents, c_in, c_out,
             reason, r_before, r_after, status, error_id, icws_message, message, request_id,
             duration, details, prev, digest) = row  # fmt: skip
            if expected_seq is not None and seq != expected_seq:
                raise _Broken(f"seq {expected_seq} is missing (deleted?)", row=row)
            if pk <= last_id and version < 3:
                raise _Broken(f"row ids do not rise with seq (id {pk} after id {last_id})", row=row)
            if prev != expected_prev:
                what = "does not follow the archived range" if rows == 0 else "previous row"
                raise _Broken(f"prev_hash does not match the {what}", row=row)
            if version == 3:
                text = canon(seq, at, kind, actor_id, username, job_id, agents, c_in, c_out,
                             reason, r_before, r_after, status, error_id, icws_message, message,
                             request_id, duration, details)  # fmt: skip
                ok = sha256(f"3:{prev}{pk}:{text}".encode()).hexdigest() == digest
                if not ok and (other := _hashed_with_other_id(prev, text, digest, seq, pk)):
                    raise _Broken(
                        f"row ids do not rise with seq as the chain hashed them: this row's "
                        f"hash is that of id {other}, not {pk} (ids swapped)",
                        row=row,
                    )
                sealed = seq <= cp_seq or self.unsealed is not None
                if ok and not sealed and not seal_ok(3, pk, text, seals.get(pk, ""), key):
                    self.unsealed = row  # reported once the chain itself holds
            elif version == 2:
                text = canon(seq, at, kind, actor_id, username, job_id, agents, c_in, c_out,
                             reason, r_before, r_after, status, error_id, icws_message, message,
                             request_id, duration, details)  # fmt: skip
                ok = sha256(f"2:{prev}{text}".encode()).hexdigest() == digest
            elif version == 1:
                ok = row_hash(prev, self._v1_content(row)) == digest
            else:
                raise _Broken(f"unknown hash_version {version}", row=row)
            if not ok:
                raise _Broken("content does not match its hash (changed?)", row=row)
            if version < version_floor:
                raise _Broken(f"hash_version {version} after version {version_floor}", row=row)
            if seq == cp_seq and digest != cp_hash:
                raise _Broken(
                    f"hash differs from the signed checkpoint at seq {cp_seq} "
                    "(the chain was rewritten)",
                    row=row,
                )
            if seq > cp_seq >= 0 and at < cp_at and version < 3:
                raise _Broken(_backdated(at, self.checkpoint), row=row)
            self.rows = rows + 1
            if self.first is None:
                self.first = seq
            self.last, self.last_hash = seq, digest
            last_id, version_floor = pk, version
            expected_prev, expected_seq = digest, seq + 1

    def load_seals(self) -> None:
        """The seals of the rows after the checkpoint and of those not chained yet (few, when
        checkpoints are taken; every row's when there is none)."""
        after = self.checkpoint.seq if self.checkpoint else -1
        self.seals = dict(
            AuditEvent.objects.filter(Q(seq__gt=after) | Q(seq__isnull=True)).values_list(
                "id", "seal"
            )
        )

    def check_sealed(self) -> None:
        row = self.unsealed
        if row is None:
            return
        at, point = row[rawrows.AT], self.checkpoint
        if point is not None and at < point.at:
            raise _Broken(_backdated(at, point), row=row)
        raise _Broken(
            "no valid seal after the signed checkpoint: a row added or rehashed in the "
            "database, not by audit_record",
            row=row,
        )

    def check_unchained(self) -> None:
        """Rows the chainer had not reached: each needs a good seal, and the subject index may
        hold rows only for chained rows and these."""
        waiting = AuditEvent.objects.filter(seq__isnull=True).order_by("id")
        ids = []
        for row in rawrows.rows(waiting):
            pk = row[0]
            text = canonical_v2_from_text(*row[2:21])
            if not seal_ok(row[1], pk, text, self.seals.get(pk, ""), self.key):
                raise _Broken(
                    "not chained and no valid seal: inserted or changed in the database, not "
                    "by audit_record",
                    row=row,
                )
            ids.append(pk)
        self.unchained = len(ids)

    def check_subjects(self, chunk: int) -> None:
        """The subject index against every row (chained or not), both in event id order: a
        pass of its own, since seq order is not id order and ordering the index by seq would
        sort it whole."""
        index = _subject_groups(chunk)
        pending = next(index, None)
        names = [f"_t_{n}" for n in SUBJECT_SOURCES]
        texts = {f"_t_{n}": Cast(F(n), TextField()) for n in SUBJECT_SOURCES}
        stream = (
            AuditEvent.objects.order_by("id")
            .annotate(**texts)
            .values_list("id", "seq", *names)
            .iterator(chunk_size=chunk)
        )
        for pk, seq, agents, r_before, r_after, c_in, c_out in stream:
            if pending is not None and pending[0] < pk:
                raise _Broken(
                    f"the subject index has rows for event id {pending[0]}, which is not in "
                    "the log",
                    where="the subject index",
                )
            found = pending[1] if pending is not None and pending[0] == pk else []
            expected = self._subjects(agents, r_before, r_after, c_in, c_out)
            if len(found) != len(expected) or set(found) != expected:
                missing = sorted(expected - set(found))
                raise _Broken(
                    f"the subject index differs from the row (missing {missing[:3]}, "
                    f"{len(found)} index rows for {len(expected)} subjects)",
                    row=[pk, None, seq],
                )
            if found:
                self.subjects += len(found)
                pending = next(index, None)
        if pending is not None:
            raise _Broken(
                f"the subject index has rows for event id {pending[0]}, which is not in the log",
                where="the subject index",
            )

    def _value(self, text: str):
        value = self._parsed.get(text)
        if value is None:
            value = json.loads(text)
            if len(self._parsed) > 100_000:
                self._parsed.clear()
            self._parsed[text] = value
        return value

    def _subjects(self, agents, r_before, r_after, c_in, c_out) -> set[tuple[str, str]]:
        value = self._value
        people = {("agent", a) for a in value(agents)}
        if r_before != "{}":
            people.update(("agent", a) for a in value(r_before))
        if r_after != "{}":
            people.update(("agent", a) for a in value(r_after))
        people.update(("campaign", c) for c in value(c_in))
        people.update(("campaign", c) for c in value(c_out))
        return people

    def _v1_content(self, row) -> dict:
        content = dict(zip(rawrows.COLUMNS, row, strict=True))
        for i in rawrows.JSON_POSITIONS:
            content[rawrows.COLUMNS[i]] = self._value(row[i])
        del content["hash_version"]
        return content


def _backdated(at: str, point: Checkpoint) -> str:
    return (
        f"dated {at}, before the signed checkpoint at seq {point.seq} ({point.at}): "
        "a backdated row added after it"
    )


def _hashed_with_other_id(prev: str, text: str, digest: str, seq: int, pk: int) -> int | None:
    """After a format-3 hash fails: the id of a nearby row it was hashed with, if any (ids
    swapped between rows). Runs only on a broken row."""
    near = AuditEvent.objects.filter(seq__gte=seq - 8, seq__lte=seq + 8).exclude(pk=pk)
    for other in near.values_list("pk", flat=True):
        if hashlib.sha256(f"3:{prev}{other}:{text}".encode()).hexdigest() == digest:
            return other
    return None


def _subject_groups(chunk: int):
    """The subject index grouped by event, in event id order: (event_id, [(kind, id), ...])."""
    stream = (
        AuditSubject.objects.order_by("event_id")
        .values_list("event_id", "kind", "subject_id")
        .iterator(chunk_size=chunk * 4)
    )
    for event_id, group in groupby(stream, key=lambda r: r[0]):
        yield event_id, [(kind, subject) for _, kind, subject in group]


def _check_ends(walk: _Walk, head: AuditChainHead | None) -> None:
    point = walk.checkpoint
    if point is not None and walk.rows == 0:
        raise _Broken(
            f"the signed checkpoint says seq {point.seq}, but the log is empty (rows deleted)",
            where="the checkpoint",
        )
    if point is not None and point.seq > walk.last:
        raise _Broken(
            f"the signed checkpoint says seq {point.seq}, but the rows end at {walk.last} "
            "(the tail was deleted)",
            where="the checkpoint",
        )
    if walk.rows == 0:
        if head is not None and (head.seq or head.hash):
            raise _Broken(
                f"the chain head says seq {head.seq}, but the log is empty (rows deleted)",
                where="the chain head",
            )
        return
    if head is None:
        raise _Broken(
            f"the chain head row is missing, with rows up to seq {walk.last}",
            where="the chain head",
        )
    if point is not None and head.seq < point.seq:
        raise _Broken(
            f"the chain head (seq {head.seq}) is older than the signed checkpoint "
            f"(seq {point.seq})",
            where="the chain head",
        )
    if head.seq != walk.last or head.hash != walk.last_hash:
        raise _Broken(
            f"the chain head says seq {head.seq}, rows end at {walk.last}",
            where="the chain head",
        )


def _start_hash() -> str:
    """ "" for a chain that starts at seq 1; else the hash an archive event recorded."""
    first = (
        AuditEvent.objects.filter(seq__isnull=False)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    if first is None or first == 1:
        return ""
    for details in AuditEvent.objects.filter(kind=Kind.ARCHIVED).values_list("details", flat=True):
        if details.get("last_seq") == first - 1:
            return details.get("last_hash", "")
    return "(no archive event covers the rows before the first one)"
