"""The audit chain's hash: SHA-256 over the previous hash and the row's canonical text.

Four formats, named by each row's ``hash_version`` (a row keeps the format it was written in, so
rows written before version 2 still verify; the version never goes down along the chain):

- **1**: ``sha256(prev_hash + json)`` where json is the object of ``HASHED_FIELDS_V1``, keys
  sorted, no whitespace, non-ASCII kept.
- **2** (written today): ``sha256("2:" + prev_hash + json)`` where json is the *array* of
  ``HASHED_FIELDS`` values in that order, no whitespace, nested keys sorted, non-ASCII kept.
  It adds ``actor_id``; an array needs no key sorting, and it can be assembled from each JSON
  column's text without building a dict, which is what lets ``verify_audit`` and the exports
  reach 100,000 rows/s (``canonical_v2_from_text``). The "2:" prefix means a version-2 row
  cannot be passed off as version 1.
- **3**: ``sha256("3:" + prev_hash + id + ":" + json)``, json as in version 2.
  Rows are chained by a background chainer (``audit.chainer``) after they commit, so seq order
  is commit order and need not be id order; the id is hashed instead, so swapping ids still
  breaks the chain. Until it is chained a row carries a *seal*: HMAC-SHA256 under
  ``AUDIT_SIGNING_KEY`` over ``seal_message`` (its id and version-2 text with seq null), so a
  row inserted or changed in the database before the chainer reached it is refused.

- **4** (written today): ``sha256("4:" + prev_hash + id + ":" + text)`` where text is built
  so that PostgreSQL can build it from the stored row cheaply (``V4_DIGEST_SQL``: no JSON
  escaping) and hash it with its built-in ``sha256()``: each of ``HASHED_FIELDS`` in order,
  a text as ``<length in characters>:<text>``, a whole number (``at`` as microseconds since
  1970-01-01 UTC) as ``<digits>,``, a JSON column as PostgreSQL prints ``jsonb`` followed by
  ``,`` (``jsonb_text``: keys shorter first, then by their UTF-8 bytes; ``", "`` and ``": "``
  between items; numbers as ``numeric`` prints them), a null as ``~,``. Each part ends where
  its length, its comma or its JSON value says, so two different rows never give one text.
  ``verify_audit`` then checks the rows a signed checkpoint covers inside PostgreSQL, a
  million in seconds; SQLite, and the rows after the checkpoint, take the Python path
  (``canonical_v4_from_text``), which gives the same text. The seal of a version-4 row covers
  its version-4 text with seq null (``~,``) under "audit-seal:4:". A row keeps the version of
  its insert: one written as version 3 before the upgrade is chained, sealed and verified as 3.

Times are UTC ISO 8601 with microseconds (``utc_text``), so the same row hashes the same on
SQLite and PostgreSQL, in the app, in ``verify_audit`` and in an export.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from json.encoder import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses
from typing import Any

CHAIN_VERSION = 4

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
# Version 4 also hashes what people know (``audit.search``): the names shown beside the ids and
# the folded columns the filters and agent history search. Changing a name, or blanking a
# search column to hide a row from a filter, then breaks the chain like any other edit.
V4_EXTRA_FIELDS = (
    "agent_names",
    "campaign_names",
    "actor_search",
    "agent_search",
    "campaign_search",
    "search_text",
)
HASHED_FIELDS_V4 = HASHED_FIELDS + V4_EXTRA_FIELDS
JSON_FIELDS_V4 = JSON_FIELDS | {"agent_names", "campaign_names"}

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


def canonical_v2(content: dict[str, Any], *, json_form=None) -> str:
    json_form = json_form or json_text
    values = []
    for name in HASHED_FIELDS:
        value = content.get(name)
        if name == "at" and isinstance(value, datetime):
            value = utc_text(value)
        values.append(json_form(value) if name in JSON_FIELDS else value)
    return canonical_v2_from_text(*values)


def canonical_v4(content: dict[str, Any]) -> str:
    """Version 4's text of a row given as a dict; JSON values as the database will hand them
    back (through JSON: tuples become lists, keys text)."""
    values = []
    for name in HASHED_FIELDS_V4:
        value = content.get(name)
        if name in JSON_FIELDS_V4:
            value = _stored_jsonb_text(value)
        elif name in V4_EXTRA_FIELDS:
            value = value or ""
        values.append(value)
    return canonical_v4_from_text(*values)


def _stored_jsonb_text(value: Any) -> str:
    if value is None:
        return "~"
    if isinstance(value, str):
        return jsonb_text(value)
    try:
        text = _plain_jsonb_text(value)
    except (_NotPlain, UnicodeEncodeError):
        return jsonb_text(json.loads(json.dumps(value)))
    if not text.isascii() and _SURROGATE.search(text):
        # JSON's trip joins a surrogate pair into one character: take its text.
        return jsonb_text(json.loads(json.dumps(value)))
    return text


_SURROGATE = re.compile("[\ud800-\udfff]")


class _NotPlain(Exception):
    """A value whose trip through JSON may change it (a key that is not text, a float, a type
    of the caller's): its text is taken after that trip."""


def _plain_jsonb_text(value: Any) -> str:
    """``jsonb_text(json.loads(json.dumps(value)))`` without the trip, for values the trip
    leaves as they are (text, whole numbers, booleans, null, lists, tuples, and dicts keyed by
    text), else ``_NotPlain``. The trip and ``jsonb_text``'s per-value recursion were most of a
    seal's CPU (a POST's and the 5,000 names of a large move's rows): lists of ids and
    dicts of names are joined by the C string encoder in one go."""
    if isinstance(value, str):
        return encode_basestring(value)
    kind = type(value)
    if kind is list or kind is tuple:
        try:
            return "[" + ", ".join(map(encode_basestring, value)) + "]"
        except TypeError:  # not all text
            return "[" + ", ".join([_plain_jsonb_text(v) for v in value]) + "]"
    if kind is dict:
        if not value:
            return "{}"
        if not all(type(k) is str for k in value):
            raise _NotPlain  # the trip makes keys text, which can change their order
        items = sorted(value.items(), key=_jsonb_key)
        e = encode_basestring
        try:
            return "{" + ", ".join([f"{e(k)}: {e(v)}" for k, v in items]) + "}"
        except TypeError:  # not all values text
            return "{" + ", ".join([f"{e(k)}: {_plain_jsonb_text(v)}" for k, v in items]) + "}"
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    raise _NotPlain


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_us(at: datetime | str) -> int:
    """A moment (or ``utc_text``) as whole microseconds since 1970-01-01 UTC."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return (at - _EPOCH) // _MICROSECOND


def _n(value) -> str:
    return "~," if value is None else f"{int(value)},"


def _t(value: str) -> str:
    return f"{len(value)}:{value}"


def canonical_v4_from_text(
    seq, at, kind, actor_id, actor_username, job_id, agents, c_in, c_out, reason,
    r_before, r_after, icws_status, icws_error_id, icws_message, message, request_id,
    duration_ms, details, agent_names, campaign_names, actor_search, agent_search,
    campaign_search, search_text,
) -> str:  # fmt: skip
    """Version 4's text from column values (``HASHED_FIELDS_V4``): ``at`` a datetime or
    ``utc_text``, JSON columns already as ``jsonb_text`` ("~" for SQL null). Equal to what
    ``V4_TEXT_SQL`` builds in PostgreSQL from the stored row; a test holds the two together."""
    return (
        f"{_n(seq)}{_n(None if at is None else epoch_us(at))}{_t(kind)}{_n(actor_id)}"
        f"{_t(actor_username)}{_n(job_id)}{agents},{c_in},{c_out},{_t(reason)}{r_before},"
        f"{r_after},{_n(icws_status)}{_t(icws_error_id)}{_t(icws_message)}{_t(message)}"
        f"{_t(request_id)}{_n(duration_ms)}{details},{agent_names},{campaign_names},"
        f"{_t(actor_search)}{_t(agent_search)}{_t(campaign_search)}{_t(search_text)}"
    )


def unchained_v4(text: str) -> str:
    """A version-4 text with its seq replaced by null (what the seal covered)."""
    return "~" + text[text.index(",") :]


def _jsonb_key(item) -> tuple[int, bytes]:
    raw = item[0].encode("utf-8")
    return len(raw), raw


def _numeric_text(value: float) -> str:
    """A float as PostgreSQL's numeric prints what ``json.dumps`` sent it: plain digits,
    the scale written (``1e-07`` -> ``0.0000001``, ``1.0`` stays), no negative zero."""
    text = format(Decimal(repr(value)), "f")
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def jsonb_text(value: Any) -> str:
    """``value`` as PostgreSQL prints it as ``jsonb`` (``value::text``); a test holds the two
    together on PostgreSQL for awkward keys, strings and numbers."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = sorted(value.items(), key=_jsonb_key)
        return "{" + ", ".join(f"{encode_basestring(k)}: {jsonb_text(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float):
        return _numeric_text(value)
    return str(int(value))


_JSONB_CACHE: dict[str, str] = {}


def jsonb_text_from_json(raw: str | None) -> str:
    """``jsonb_text`` of a JSON column stored as JSON text (SQLite), remembered like
    ``json_text_from_db``. On PostgreSQL the column cast to text is already this form."""
    cached = _JSONB_CACHE.get(raw)
    if cached is None:
        cached = "~" if raw is None else jsonb_text(json.loads(raw))
        if len(_JSONB_CACHE) > 200_000:
            _JSONB_CACHE.clear()
        _JSONB_CACHE[raw] = cached
    return cached


# Version 4's text and hash of a stored row, built by PostgreSQL from the table's columns
# (unqualified): the same text as ``canonical_v4_from_text`` (a test holds them together).
def _pg_part(name: str) -> str:
    if name in JSON_FIELDS_V4:
        return f"coalesce({name}::text, '~') || ','"
    if name == "at":
        return "coalesce(((extract(epoch FROM at) * 1000000)::bigint)::text, '~') || ','"
    if name in ("seq", "actor_id", "job_id", "icws_status", "duration_ms"):
        return f"coalesce({name}::text, '~') || ','"
    return f"length({name}) || ':' || {name}"


V4_TEXT_SQL = " || ".join(_pg_part(n) for n in HASHED_FIELDS_V4)
# Compared with decode(hash, 'hex'): bytes against bytes, no hex text made per row.
V4_DIGEST_SQL = f"sha256(convert_to('4:' || prev_hash || id::text || ':' || {V4_TEXT_SQL}, 'UTF8'))"


def hash_v2(prev_hash: str, text: str) -> str:
    return hashlib.sha256(f"2:{prev_hash}{text}".encode()).hexdigest()


def hash_v3(prev_hash: str, pk: int, text: str) -> str:
    return hashlib.sha256(f"3:{prev_hash}{pk}:{text}".encode()).hexdigest()


def hash_v4(prev_hash: str, pk: int, text: str) -> str:
    return hashlib.sha256(f"4:{prev_hash}{pk}:{text}".encode()).hexdigest()


def chained_hash(version: int, prev_hash: str, pk: int, text: str) -> str:
    """The hash the chainer gives a row of ``version`` (3 or 4) with canonical ``text``."""
    return hashlib.sha256(f"{version}:{prev_hash}{pk}:{text}".encode()).hexdigest()


def seal_message(pk: int, unchained_text: str, version: int = 3) -> str:
    """What a row's seal signs: its id and its canonical text (version 2's for a version-3
    row, version 4's for a version-4 row) written with seq null."""
    return f"audit-seal:{version}:{pk}:{unchained_text}"


def unchained_text(text: str) -> str:
    """A row's canonical text with its seq replaced by null (what the seal covered)."""
    return "[null" + text[text.index(",") :]


def row_text(version: int, fields, extra=()) -> str:
    """The canonical text of a row's ``HASHED_FIELDS`` values (and, for version 4, its
    ``V4_EXTRA_FIELDS`` values) in its format (versions 2 to 4; JSON columns already in that
    format's form, as ``rawrows`` gives them)."""
    if version >= 4:
        return canonical_v4_from_text(*fields, *extra)
    return canonical_v2_from_text(*fields)


def text_with_seq(version: int, text: str, seq: int | None) -> str:
    """``text`` (versions 2 to 4) with its seq replaced: by null (what a seal covers) or by
    the seq the chainer gives the row."""
    if version >= 4:
        return ("~" if seq is None else str(seq)) + text[text.index(",") :]
    return "[" + ("null" if seq is None else str(seq)) + text[text.index(",") :]


def row_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """The hash of a row given as a dict of its fields (``hash_version`` absent means 1)."""
    version = content.get("hash_version", 1)
    if version >= 4:
        return hash_v4(prev_hash, content["id"], canonical_v4(content))
    if version == 3:
        return hash_v3(prev_hash, content["id"], canonical_v2(content))
    if version == 2:
        return hash_v2(prev_hash, canonical_v2(content))
    return hashlib.sha256((prev_hash + canonical(content)).encode("utf-8")).hexdigest()


def content_of(event) -> dict[str, Any]:
    """The hashed fields of a saved ``AuditEvent``, with its ``hash_version``."""
    content = {name: getattr(event, name) for name in HASHED_FIELDS_V4}
    content["id"] = event.pk
    content["hash_version"] = getattr(event, "hash_version", 1)
    return content
