"""The audit chain's hash: SHA-256 over the previous hash and the row's canonical text.

Three formats, named by each row's ``hash_version`` (a row keeps the format it was written in, so
rows written before version 2 still verify; the version never goes down along the chain):

- **1**: ``sha256(prev_hash + json)`` where json is the object of ``HASHED_FIELDS_V1``, keys
  sorted, no whitespace, non-ASCII kept.
- **2** (written today): ``sha256("2:" + prev_hash + json)`` where json is the *array* of
  ``HASHED_FIELDS`` values in that order, no whitespace, nested keys sorted, non-ASCII kept.
  It adds ``actor_id``; an array needs no key sorting, and it can be assembled from each JSON
  column's text without building a dict, which is what lets ``verify_audit`` and the exports
  reach 100,000 rows/s (``canonical_v2_from_text``). The "2:" prefix means a version-2 row
  cannot be passed off as version 1.
- **3** (written today): ``sha256("3:" + prev_hash + id + ":" + json)``, json as in version 2.
  Rows are chained by a background chainer (``audit.chainer``) after they commit, so seq order
  is commit order and need not be id order; the id is hashed instead, so swapping ids still
  breaks the chain. Until it is chained a row carries a *seal*: HMAC-SHA256 under
  ``AUDIT_SIGNING_KEY`` over ``seal_message`` (its id and version-2 text with seq null), so a
  row inserted or changed in the database before the chainer reached it is refused.

Times are UTC ISO 8601 with microseconds (``utc_text``), so the same row hashes the same on
SQLite and PostgreSQL, in the app, in ``verify_audit`` and in an export.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from json.encoder import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses
from typing import Any

CHAIN_VERSION = 3

# Version 2, in array order: everything that carries meaning, the actor's id included.
HASHED_FIELDS = (
    "seq",
    "at",
    "kind",
    "actor_id",
    "actor_username",
    "job_id",
    "agent_ids",
    "campaign_ids_in",
    "campaign_ids_out",
    "reason",
    "roster_before",
    "roster_after",
    "icws_status",
    "icws_error_id",
    "icws_message",
    "message",
    "request_id",
    "duration_ms",
    "details",
)
# Version 1: every column that carried meaning then (the actor's id was not yet hashed); id is
# left out (not part of what happened).
HASHED_FIELDS_V1 = tuple(name for name in HASHED_FIELDS if name != "actor_id")
JSON_FIELDS = frozenset(
    {"agent_ids", "campaign_ids_in", "campaign_ids_out", "roster_before", "roster_after", "details"}
)

_compact = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(content: dict[str, Any]) -> str:
    """Version 1's text (kept for rows written before version 2 and for migration 0002)."""
    values = {name: content.get(name) for name in HASHED_FIELDS_V1}
    if isinstance(values["at"], datetime):
        values["at"] = utc_text(values["at"])
    return _compact(values)


def json_text(value: Any) -> str:
    """A JSON column's canonical text: compact, keys sorted, non-ASCII kept."""
    return _compact(value)


_JSON_CACHE: dict[str, str] = {}


def json_text_from_db(raw: str | None) -> str:
    """The canonical text of a JSON column as the database returns it. Most values repeat
    (``{}``, ``[]``, the same campaigns), so the conversion is remembered (bounded)."""
    cached = _JSON_CACHE.get(raw)
    if cached is None:
        cached = "null" if raw is None else _compact(json.loads(raw))
        if len(_JSON_CACHE) > 200_000:
            _JSON_CACHE.clear()
        _JSON_CACHE[raw] = cached
    return cached


def _scalar(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return encode_basestring(value)
    return str(int(value))


def canonical_v2_from_text(
    seq, at, kind, actor_id, actor_username, job_id, agents, c_in, c_out, reason,
    r_before, r_after, icws_status, icws_error_id, icws_message, message, request_id,
    duration_ms, details,
) -> str:  # fmt: skip
    """Version 2's text from column values, JSON columns already as canonical text
    (``json_text``). Equal to ``json.dumps([...], separators=(",", ":"), sort_keys=True,
    ensure_ascii=False)`` of the values; a test holds the two together."""
    e = encode_basestring
    return (
        f"[{seq},{e(at)},{e(kind)},{_scalar(actor_id)},{e(actor_username)},{_scalar(job_id)},"
        f"{agents},{c_in},{c_out},{e(reason)},{r_before},{r_after},{_scalar(icws_status)},"
        f"{e(icws_error_id)},{e(icws_message)},{e(message)},{e(request_id)},"
        f"{_scalar(duration_ms)},{details}]"
    )


def canonical_v2(content: dict[str, Any]) -> str:
    values = []
    for name in HASHED_FIELDS:
        value = content.get(name)
        if name == "at" and isinstance(value, datetime):
            value = utc_text(value)
        values.append(json_text(value) if name in JSON_FIELDS else value)
    return canonical_v2_from_text(*values)


def hash_v2(prev_hash: str, text: str) -> str:
    return hashlib.sha256(f"2:{prev_hash}{text}".encode()).hexdigest()


def hash_v3(prev_hash: str, pk: int, text: str) -> str:
    return hashlib.sha256(f"3:{prev_hash}{pk}:{text}".encode()).hexdigest()


def seal_message(pk: int, unchained_text: str) -> str:
    """What a row's seal signs: its id and its version-2 text written with seq null."""
    return f"audit-seal:3:{pk}:{unchained_text}"


def unchained_text(text: str) -> str:
    """A row's canonical text with its seq replaced by null (what the seal covered)."""
    return "[null" + text[text.index(",") :]


def row_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """The hash of a row given as a dict of its fields (``hash_version`` absent means 1)."""
    version = content.get("hash_version", 1)
    if version >= 3:
        return hash_v3(prev_hash, content["id"], canonical_v2(content))
    if version == 2:
        return hash_v2(prev_hash, canonical_v2(content))
    return hashlib.sha256((prev_hash + canonical(content)).encode("utf-8")).hexdigest()


def content_of(event) -> dict[str, Any]:
    """The hashed fields of a saved ``AuditEvent``, with its ``hash_version``."""
    content = {name: getattr(event, name) for name in HASHED_FIELDS}
    content["id"] = event.pk
    content["hash_version"] = getattr(event, "hash_version", 1)
    return content
