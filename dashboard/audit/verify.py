"""``manage.py verify_audit``: walk the chain against the newest signed checkpoint.

One pass in seq order: on PostgreSQL the format-4 rows the newest signed checkpoint covers are
rehashed inside the database (``_Walk._run_in_database``), the rest as plain tuples
(``rawrows``) in a tight Python loop; SQLite takes the Python loop throughout. Broken, with
what broke named, when:

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
  when there are none.

What the filters and agent history search (the names and folded ``*_search`` columns on each
row) is hashed from format 4 on, so hiding a row from a filter is a changed row like any other;
the filters' word list must hold every word of the rows (``audit.words_check``: checked in full
once, then for the rows after its newest signed word checkpoint).

The chainer runs first, so rows written until then are chained and verified in full; the
checkpoint file is read before the database snapshot is taken, so every row a checkpoint names
is committed and visible to the walk.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max, Q

from dashboard.audit import rawrows
from dashboard.audit.chain import (
    V4_DIGEST_SQL,
    canonical_v2_from_text,
    canonical_v4_from_text,
    row_hash,
    row_text,
)
from dashboard.audit.chainer import chain_pending, seal_ok
from dashboard.audit.checkpoints import Checkpoint, newest_checkpoint, signing_key
from dashboard.audit.models import AuditChainHead, AuditEvent
from dashboard.audit.words_check import check_words

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
    where: str = ""  # what broke when it is not one row: "the chain head", "the checkpoint"
    checkpoint: Checkpoint | None = None
    checkpoint_source: str = ""
    note: str = ""
    unchained: int = 0  # rows with good seals the chainer had not reached
    words_checked: str = ""  # which rows' words were checked against the filters' word list


class _Broken(Exception):
    def __init__(self, problem: str, *, row: tuple | None = None, where: str = ""):
        super().__init__(problem)
        self.problem, self.row, self.where = problem, row, where


def chain_verify(*, chunk: int = 5000, chain_first: bool = True) -> ChainReport:
    """Verify every row, the head and the newest checkpoint."""
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
            words_checked = _check_filter_words(walk)
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
        unchained=walk.unchained,
        words_checked=words_checked,
    )


class _Walk:
    def __init__(self, checkpoint: Checkpoint | None):
        self.checkpoint = checkpoint
        self.rows = self.unchained = 0
        self.key = signing_key()
        self.seals: dict[int, str] = {}
        self.unsealed: list | None = None  # the first chained row after the checkpoint without
        # a good seal: added in the database and hashed to fit (reported after the chain checks)
        self.first = self.last = None
        self.last_hash = ""
        # Where the walk has got to (the Python and the database passes continue each other).
        self.expected_prev: str | None = None
        self.expected_seq: int | None = None
        self.last_id = self.version_floor = 0
        self._parsed: dict[str, object] = {}

    def run(self, chunk: int) -> None:
        """Walk the chain in seq order. On PostgreSQL the version-4 rows a signed checkpoint
        covers are checked inside the database (``_run_in_database``); the rows before them
        (older formats) and after the checkpoint (whose seals need the key) go through Python.
        Both apply the same checks; each carries on where the other stopped."""
        cp_seq = self.checkpoint.seq if self.checkpoint else -1
        chained = AuditEvent.objects.filter(seq__isnull=False)
        self.expected_prev = _start_hash()
        if connection.vendor != "postgresql" or cp_seq < 0:
            self._run_python(chained, chunk)
            return
        older = chained.filter(hash_version__lt=4).aggregate(last=Max("seq"))  # audit_old_format
        python_upto = older["last"] or 0
        if python_upto:
            self._run_python(chained.filter(seq__lte=python_upto), chunk)
        if cp_seq > python_upto:
            self._run_in_database(python_upto, cp_seq)
        self._run_python(chained.filter(seq__gt=max(cp_seq, python_upto)), chunk)

    def _run_python(self, chained, chunk: int) -> None:
        cp_seq = self.checkpoint.seq if self.checkpoint else -1
        cp_hash = self.checkpoint.hash if self.checkpoint else ""
        cp_at = self.checkpoint.at if self.checkpoint else ""
        expected_prev, expected_seq = self.expected_prev, self.expected_seq
        last_id, version_floor = self.last_id, self.version_floor
        sha256, canon, canon4 = hashlib.sha256, canonical_v2_from_text, canonical_v4_from_text
        seals, key = self.seals, self.key
        events = rawrows.rows(chained.order_by("seq"), chunk=chunk)
        for rows, row in enumerate(events, start=self.rows):  # rows: how many came before
            (pk, version, seq, at, kind, actor_id, username, job_id, agents, c_in, c_out,
             reason, r_before, r_after, status, error_id, icws_message, message, request_id,
             duration, details, prev, digest, *extra) = row  # fmt: skip
            if expected_seq is not None and seq != expected_seq:
                raise _Broken(f"seq {expected_seq} is missing (deleted?)", row=row)
            if pk <= last_id and version < 3:
                raise _Broken(f"row ids do not rise with seq (id {pk} after id {last_id})", row=row)
            if prev != expected_prev:
                what = "does not follow the archived range" if rows == 0 else "previous row"
                raise _Broken(f"prev_hash does not match the {what}", row=row)
            if version in (3, 4):
                if version == 4:
                    text = canon4(seq, at, kind, actor_id, username, job_id, agents, c_in,
                                  c_out, reason, r_before, r_after, status, error_id,
                                  icws_message, message, request_id, duration, details,
                                  *extra)  # fmt: skip
                else:
                    text = canon(seq, at, kind, actor_id, username, job_id, agents, c_in, c_out,
                                 reason, r_before, r_after, status, error_id, icws_message,
                                 message, request_id, duration, details)  # fmt: skip
                ok = sha256(f"{version}:{prev}{pk}:{text}".encode()).hexdigest() == digest
                if not ok:
                    _raise_if_ids_swapped(version, prev, text, digest, row)
                sealed = seq <= cp_seq or self.unsealed is not None
                if ok and not sealed and not seal_ok(version, pk, text, seals.get(pk, ""), key):
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
                raise _Broken(CHANGED, row=row)
            if version < version_floor:
                raise _Broken(f"hash_version {version} after version {version_floor}", row=row)
            if seq == cp_seq and digest != cp_hash:
                raise _Broken(_rewritten(cp_seq), row=row)
            if seq > cp_seq >= 0 and at < cp_at and version < 3:
                raise _Broken(_backdated(at, self.checkpoint), row=row)
            self.rows = rows + 1
            if self.first is None:
                self.first = seq
            self.last, self.last_hash = seq, digest
            last_id, version_floor = pk, version
            expected_prev, expected_seq = digest, seq + 1
        self.expected_prev, self.expected_seq = expected_prev, expected_seq
        self.last_id, self.version_floor = last_id, version_floor

    def _run_in_database(self, after: int, upto: int) -> None:
        """The chained rows with ``after < seq <= upto``, all in format 4, checked by
        PostgreSQL in one ordered pass: each row's hash recomputed from its stored columns
        (``chain.V4_HASH_SQL``), its prev_hash against the hash of the row before it and its
        seq against that row's seq plus one (window ``lag``). Only the rows that fail, the
        first row, the last (window ``lead``) and the checkpoint's row come back, and Python
        names what broke exactly as the Python walk would. The window starts at row ``after``
        (the last one Python walked), so the seam between the two is checked too. With every
        seq in between checked to follow the one before, the first and last rows give the
        count, so the table is read once (a separate count was a second full scan: ~0.5 s
        CPU and 1-2 s of reads per million rows).

        The hashes are recomputed in a query of their own (``_first_bad_hash``), which
        PostgreSQL can spread over parallel workers: the window needs one ordered pass, the
        hashes do not, and they are nine tenths of the work (1M rows, quiet machine: window
        with the hashes 11.5 s; the hashes alone 9.3 s of CPU serially, 4.6 s wall with two
        workers). The window pass then reads seq, prev_hash and hash only and flags the first
        row whose hash failed, so the first problem in seq order is still the one named."""
        table = connection.ops.quote_name(AuditEvent._meta.db_table)
        bad = _first_bad_hash(table, after, upto)
        sql = (
            "SELECT id, hash_version, seq, prev_hash, hash, p_seq, p_hash, n_seq, ok FROM ("  # noqa: S608
            " SELECT id, hash_version, seq, prev_hash, hash,"
            "  lag(seq) OVER w AS p_seq, lag(hash) OVER w AS p_hash, lead(seq) OVER w AS n_seq,"
            "  seq IS DISTINCT FROM %(bad)s AS ok"
            f" FROM {table} WHERE seq >= %(after)s AND seq <= %(upto)s WINDOW w AS (ORDER BY seq)"
            ") walked WHERE seq > %(after)s AND (p_seq IS NULL OR p_seq <= %(after)s"
            " OR n_seq IS NULL OR seq <> p_seq + 1 OR prev_hash <> p_hash OR NOT ok"
            " OR seq = %(upto)s) ORDER BY seq LIMIT 3"
        )
        cp_hash = self.checkpoint.hash
        with connection.cursor() as cursor:
            cursor.execute(sql, {"after": after, "upto": upto, "bad": bad})
            flagged = cursor.fetchall()
        for pk, version, seq, prev, digest, p_seq, p_hash, _, ok in flagged:
            row = [pk, version, seq]
            if p_seq is None:
                if prev != self.expected_prev:
                    raise _Broken(
                        "prev_hash does not match the archived range"
                        if self.rows == 0
                        else "prev_hash does not match the previous row",
                        row=row,
                    )
            elif seq != p_seq + 1:
                raise _Broken(f"seq {p_seq + 1} is missing (deleted?)", row=row)
            elif prev != p_hash:
                raise _Broken("prev_hash does not match the previous row", row=row)
            if not ok:
                if version != 4:
                    raise _Broken(f"unknown hash_version {version}", row=row)
                full = next(rawrows.rows(AuditEvent.objects.filter(pk=pk)))
                text = row_text(4, full[rawrows.FIELDS], full[rawrows.EXTRA])
                _raise_if_ids_swapped(4, prev, text, digest, row)
                raise _Broken(CHANGED, row=row)
            if seq == upto and digest != cp_hash:
                raise _Broken(_rewritten(upto), row=row)
        if not flagged:
            return  # no rows in the range
        # No row broke, so the flagged rows are the first, the last and the checkpoint's
        # (the last, when it exists): at most two, all within the LIMIT.
        first, (pk, last, digest) = (
            flagged[0][2],
            next((r[0], r[2], r[4]) for r in flagged if r[7] is None),
        )
        self.rows += last - first + 1
        self.first = first if self.first is None else self.first
        self.last, self.last_hash = last, digest
        self.expected_prev, self.expected_seq = digest, last + 1
        self.last_id, self.version_floor = pk, 4

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
        """Rows the chainer had not reached: each needs a good seal."""
        waiting = AuditEvent.objects.filter(seq__isnull=True).order_by("id")
        ids = []
        for row in rawrows.rows(waiting):
            pk = row[0]
            text = row_text(row[1], row[rawrows.FIELDS], row[rawrows.EXTRA])
            if not seal_ok(row[1], pk, text, self.seals.get(pk, ""), self.key):
                raise _Broken(
                    "not chained and no valid seal: inserted or changed in the database, not "
                    "by audit_record",
                    row=row,
                )
            ids.append(pk)
        self.unchained = len(ids)

    def _value(self, text: str):
        value = self._parsed.get(text)
        if value is None:
            value = json.loads(text)
            if len(self._parsed) > 100_000:
                self._parsed.clear()
            self._parsed[text] = value
        return value

    def _v1_content(self, row) -> dict:
        content = dict(zip(rawrows.COLUMNS, row, strict=True))
        for i in rawrows.JSON_POSITIONS:
            content[rawrows.COLUMNS[i]] = self._value(row[i])
        del content["hash_version"]
        return content


def _check_filter_words(walk: _Walk) -> str:
    """The filters' word list (PostgreSQL) must hold every word the rows hold: a word deleted
    from it hides the rows holding it from the audit filters (and agent history) while the rows
    themselves stay intact. Read in the walk's snapshot, so a row and its words are seen
    together; only the rows after the newest signed word checkpoint when the list still
    matches it (``audit.words_check``), which the walk has just shown holds for the rows
    before it."""
    report = check_words(connection, last_seq=walk.last, last_hash=walk.last_hash, key=walk.key)
    if report.missing:
        raise _Broken(
            f"{report.missing} word(s) the rows hold are missing from the filters' word list, "
            "so rows holding them are hidden from the audit filters; restore it with "
            "`manage.py rebuild_audit_words`",
            where="the filters' word list",
        )
    return report.checked


def _first_bad_hash(table: str, after: int, upto: int) -> int | None:
    """The lowest seq in ``after < seq <= upto`` whose stored hash is not the version-4 hash
    of its columns (``chain.V4_DIGEST_SQL``; another version counts as failed: the range is
    all version 4), or None. An aggregate with FILTER, so the planner scans every row (in
    parallel when it may) rather than walking the seq index for an early first row."""
    failed = f"({V4_DIGEST_SQL} = decode(hash, 'hex') AND hash_version = 4) IS NOT TRUE"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(seq) FILTER (WHERE {failed}) FROM {table}"  # noqa: S608
            " WHERE seq > %s AND seq <= %s",
            [after, upto],
        )
        return cursor.fetchone()[0]


def _backdated(at: str, point: Checkpoint) -> str:
    return (
        f"dated {at}, before the signed checkpoint at seq {point.seq} ({point.at}): "
        "a backdated row added after it"
    )


CHANGED = "content does not match its hash (changed?)"


def _rewritten(seq: int) -> str:
    return f"hash differs from the signed checkpoint at seq {seq} (the chain was rewritten)"


def _raise_if_ids_swapped(version: int, prev: str, text: str, digest: str, row) -> None:
    """After a format-3/4 hash fails: if it is the hash of this content under a nearby row's
    id, the ids were swapped; say so. Runs only on a broken row."""
    pk, seq = row[0], row[2]
    near = AuditEvent.objects.filter(seq__gte=seq - 8, seq__lte=seq + 8).exclude(pk=pk)
    for other in near.values_list("pk", flat=True):
        if hashlib.sha256(f"{version}:{prev}{other}:{text}".encode()).hexdigest() == digest:
            raise _Broken(
                f"row ids do not rise with seq as the chain hashed them: this row's "
                f"hash is that of id {other}, not {pk} (ids swapped)",
                row=row,
            )


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
