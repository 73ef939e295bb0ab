"""The filters' word list (``AuditWord``, PostgreSQL) must hold every word the rows hold, checked
in full once and from then on against a signed word checkpoint.

A word deleted from the list hides the rows holding it from the audit filters and agent history
while the rows stay intact, so ``verify_audit`` checks the list. Doing that over every row
costs a scan of every word of every row (10 s at a million rows, more than the chain walk), so
after a full check that passes ``verify_audit`` signs what it saw (``WordCheckpoint``): "every
word of the rows up to seq ``seq`` (whose hash is ``row_hash``) was in the list, whose entries
with id <= ``word_id`` were these ``words`` entries with digest ``digest``". The next
``verify_audit`` then checks only:

- the list's entries with id <= ``word_id`` are still exactly those (count and SHA-256 of
  ``id column word`` in id order): nothing was deleted or changed, so the list still holds
  every word of the rows up to ``seq``, whose words the chain walk has just proved unchanged
  (format 4 hashes them; the checkpoint's row hash ties the word checkpoint to this chain);
- every word of the rows after ``seq``, not chained yet, or in an older hash format (whose
  hash does not cover their words) is in the list.

Anything else (no word checkpoint, a bad signature, another key, the list's old entries
changed, the row at ``seq`` gone or rehashed) falls back to the full check, which alone
decides: a list repaired with ``rebuild_audit_words`` (re-added words get new ids) passes it
and is checkpointed afresh. The fast path never passes what the full check would fail, so the
word checkpoint needs no copy outside the database: deleting it only costs time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import DatabaseError, transaction

from dashboard.audit.checkpoints import key_id, sign, signature_ok
from dashboard.audit.search import WORD_COLUMNS

logger = logging.getLogger(__name__)

TABLE = "audit_word_checkpoint"  # migration 0009_verify_words; PostgreSQL only
EVENTS = "audit_auditevent"
WORDS = "audit_auditword"
NO_WORD_LIST = "no word list on this database"  # WordReport.checked off PostgreSQL


@dataclass(frozen=True)
class WordCheckpoint:
    seq: int
    row_hash: str
    word_id: int
    words: int
    digest: str
    key_id: str = ""
    hmac: str = ""

    @property
    def message(self) -> str:
        return f"audit-words:1:{self.seq}:{self.row_hash}:{self.word_id}:{self.words}:{self.digest}"

    def verifies(self, key: bytes) -> bool:
        return self.key_id == key_id(key) and signature_ok(self.message, self.hmac, key)


@dataclass
class WordReport:
    missing: int  # (column, word) pairs the rows hold that the list lacks
    checked: str  # what was checked: "every row" or "the rows after seq N"


def _words_of(rows_sql: str) -> str:
    """How many distinct (column, word) pairs of the rows ``rows_sql`` selects the list lacks
    (``search.missing_words`` for some rows, in one pass over them: there are few)."""
    values = ", ".join(f"('{c}', r.{c})" for c in WORD_COLUMNS)
    return (
        f"SELECT count(*) FROM (SELECT DISTINCT v.c, w FROM ({rows_sql}) AS r"  # noqa: S608
        f" CROSS JOIN LATERAL (VALUES {values}) AS v(c, t),"
        f" unnest(string_to_array(v.t, ' ')) AS w WHERE w <> '') AS t"
        f' WHERE NOT EXISTS (SELECT 1 FROM {WORDS} a WHERE a."column" = t.c AND a.word = t.w)'
    )


_COLUMNS = ", ".join(WORD_COLUMNS)
# Each part can use an index (seq's, audit_unchained, audit_old_format).
MISSING_AFTER_SQL = _words_of(
    f"SELECT {_COLUMNS} FROM {EVENTS} WHERE seq > %(seq)s"  # noqa: S608
    f" UNION ALL SELECT {_COLUMNS} FROM {EVENTS} WHERE seq IS NULL"
    f" UNION ALL SELECT {_COLUMNS} FROM {EVENTS} WHERE hash_version < 4 AND seq <= %(seq)s"
)
DIGEST_SQL = (
    "SELECT count(*), coalesce(max(id), 0), encode(sha256(convert_to(coalesce(string_agg("  # noqa: S608
    f"id::text || ' ' || \"column\" || ' ' || word, E'\\n' ORDER BY id), ''), 'UTF8')), 'hex')"
    f" FROM {WORDS} WHERE id <= %s"
)


# Columns whose whole values repeat across rows (a move's rows share their agents and
# campaigns): deduplicated before they are split. search_text also holds the actor and the
# free text, so nearly every row's differs and a first DISTINCT over it would only cost.
_REPEATING = ("agent_search", "campaign_search")


def _full_missing_sql(column: str) -> str:
    """``search.missing_words`` for one column, the same set of words counted a cheaper way.
    The folded columns join their parts with " | " (``search.subject_text``), and splitting
    at " | " cuts only at spaces, so a value's words are the words of its parts plus "|"
    itself when it holds a " | ". The parts repeat across the rows (a few thousand agents
    and campaigns), so the words are split out of the distinct parts: at a million rows
    about 6 million parts instead of 20 million words for search_text (11.2 -> 4.0 s of
    backend CPU), and for the subject columns the distinct values first (4.7 -> 1.2 s,
    4.3 -> 0.7 s)."""
    values = (
        f"(SELECT DISTINCT {column} AS t FROM {EVENTS}) AS d"  # noqa: S608 - fixed names
        if column in _REPEATING
        else f"(SELECT {column} AS t FROM {EVENTS}) AS d"  # noqa: S608
    )
    return (
        "SELECT count(*) FROM ("  # noqa: S608 - fixed names
        f" SELECT DISTINCT w FROM (SELECT DISTINCT p FROM {values},"
        "  unnest(string_to_array(d.t, ' | ')) AS p) AS s,"
        "  unnest(string_to_array(s.p, ' ')) AS w WHERE w <> ''"
        f" UNION SELECT '|' WHERE EXISTS (SELECT 1 FROM {EVENTS} WHERE strpos({column}, ' | ') > 0)"
        f") AS t WHERE NOT EXISTS (SELECT 1 FROM {WORDS} a"
        ' WHERE a."column" = %s AND a.word = t.w)'
    )


def missing_everywhere(connection) -> int:
    """How many (column, word) pairs of every row the list lacks: ``search.missing_words``'s
    count (a test holds the two together)."""
    total = 0
    with connection.cursor() as cursor:
        for column in WORD_COLUMNS:
            cursor.execute(_full_missing_sql(column), [column])
            total += cursor.fetchone()[0]
    return total


def check_words(connection, *, last_seq: int | None, last_hash: str, key: bytes) -> WordReport:
    """Count the words the rows hold that the list lacks, from the newest word checkpoint
    when it still holds, else over every row; after a check that finds none, checkpoint what
    was seen. Runs inside ``verify_audit``'s snapshot, after the chain walk has passed up to
    ``last_seq`` (hash ``last_hash``)."""
    if connection.vendor != "postgresql":
        return WordReport(0, NO_WORD_LIST)
    with connection.cursor() as cursor:
        point = _usable(cursor, _newest(cursor), last_seq, key)
        if point is not None:
            cursor.execute(MISSING_AFTER_SQL, {"seq": point.seq})
            missing = cursor.fetchone()[0]
            checked = f"the rows after seq {point.seq} (word checkpoint)"
        else:
            missing, checked = missing_everywhere(connection), "every row"
        if missing == 0 and last_seq is not None and (point is None or last_seq > point.seq):
            _write(cursor, last_seq, last_hash, key)
    return WordReport(missing, checked)


def _newest(cursor) -> WordCheckpoint | None:
    cursor.execute(
        f"SELECT seq, row_hash, word_id, words, digest, key_id, hmac FROM {TABLE}"  # noqa: S608
        " ORDER BY id DESC LIMIT 1"
    )
    row = cursor.fetchone()
    return WordCheckpoint(*row) if row else None


def _usable(cursor, point, last_seq, key) -> WordCheckpoint | None:
    """``point`` if it verifies and the list and chain still match it, else None (full check)."""
    if point is None or last_seq is None or point.seq > last_seq or not point.verifies(key):
        return None
    cursor.execute(f"SELECT hash FROM {EVENTS} WHERE seq = %s", [point.seq])  # noqa: S608
    row = cursor.fetchone()
    if row is None or row[0] != point.row_hash:
        return None
    cursor.execute(DIGEST_SQL, [point.word_id])
    words, _, digest = cursor.fetchone()
    if words != point.words or digest != point.digest:
        return None
    return point


def _write(cursor, seq: int, row_hash: str, key: bytes) -> None:
    """Sign the list as this snapshot sees it. A role that may not write (an auditor's
    read-only one) still verifies, only without the fast path next time."""
    cursor.execute(DIGEST_SQL, [2**63 - 1])
    words, word_id, digest = cursor.fetchone()
    point = WordCheckpoint(seq, row_hash, word_id, words, digest, key_id(key))
    signed = sign(point.message, key)
    try:
        with transaction.atomic():
            cursor.execute(
                f"INSERT INTO {TABLE} (seq, row_hash, word_id, words, digest, key_id, hmac, at)"  # noqa: S608
                " VALUES (%s, %s, %s, %s, %s, %s, %s, now())",
                [seq, row_hash, word_id, words, digest, point.key_id, signed],
            )
    except DatabaseError:
        logger.warning("word checkpoint at seq %s not written", seq, exc_info=True)
