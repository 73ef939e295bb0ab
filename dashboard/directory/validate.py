"""Checks on values ICWS hands the directory, made once before anything reaches the database.

An id the database or a URL cannot carry (empty, too long, control characters) makes its row
skipped and counted, never a failed sync; a display name too long for its column is cut to fit.
"""

from __future__ import annotations

import unicodedata

ID_MAX = 200  # Agent.id, Campaign.id, Workgroup.id
NAME_MAX = 200
EXTENSION_MAX = 50
STATUS_MAX = 100


def clean_id(value: object) -> str | None:
    """The id as given, or None when it cannot be stored and linked safely."""
    if not isinstance(value, str) or not value or len(value) > ID_MAX or value != value.strip():
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in value):
        return None
    return value


def fit(value: object, limit: int) -> str:
    """Text cut to ``limit`` characters, control characters replaced by spaces."""
    text = value if isinstance(value, str) else ""
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
