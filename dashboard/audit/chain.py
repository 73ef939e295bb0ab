"""The audit chain's hash: SHA-256 over the previous hash and the row's canonical JSON.

Canonical means sorted keys, no whitespace, times in UTC ISO 8601 with microseconds, so the same
row hashes the same on SQLite and PostgreSQL, in the app, in ``verify_audit`` and in an export.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

# Every column that carries meaning; id is left out (it is not part of what happened).
HASHED_FIELDS = (
    "seq",
    "at",
    "kind",
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


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(content: dict[str, Any]) -> str:
    values = {name: content.get(name) for name in HASHED_FIELDS}
    if isinstance(values["at"], datetime):
        values["at"] = utc_text(values["at"])
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(content)).encode("utf-8")).hexdigest()


def content_of(event) -> dict[str, Any]:
    """The hashed fields of a saved ``AuditEvent``."""
    return {name: getattr(event, name) for name in HASHED_FIELDS}
