"""Small checks shared by the client: request id lists out, answer shapes in."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from .exceptions import IcwsProtocolError, IcwsRequestRefused

_CONTENT_RANGE = re.compile(r"^\s*items\s+(\d+)-(\d+)/(\d+|\*)\s*$")


def id_list(ids: Iterable[str] | None, name: str) -> list[str]:
    """Validate a list of ids for a request body; a bare string is a mistake, not a list."""
    if ids is None:
        return []
    if isinstance(ids, str | bytes):
        raise IcwsRequestRefused(f"{name} must be a list of ids, not a single string")
    result: list[str] = []
    for value in ids:
        if not isinstance(value, str) or not value.strip():
            raise IcwsRequestRefused(f"{name} must contain non-empty strings, got {value!r}")
        result.append(value)
    duplicates = sorted(v for v, n in Counter(result).items() if n > 1)
    if duplicates:
        raise IcwsRequestRefused(f"{name} repeats ids: {', '.join(duplicates)}")
    return result


def field(body: Any, key: str, kind: type, where: str) -> Any:
    """``body[key]`` if ``body`` is an object holding a ``kind`` there, else IcwsProtocolError."""
    if not isinstance(body, dict) or not isinstance(body.get(key), kind):
        raise IcwsProtocolError(f"{where}: response lacks '{key}' ({kind.__name__})")
    return body[key]


def content_range_total(header: str | None) -> int | None:
    if not header:
        return None
    match = _CONTENT_RANGE.match(header)
    if not match or match.group(3) == "*":
        return None
    return int(match.group(3))
