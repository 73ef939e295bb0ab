"""Keyset pages, newest first: ``id < before``, never OFFSET.

A deep page costs what the first one does, and rows appended while someone pages through do not
shift what they see. Every paged list (jobs page, jobs API, audit page, audit API) goes through
``keyset_page``, which also reads the cursor from the URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Model, QuerySet

from dashboard.core.params import BadParameter

T = TypeVar("T", bound=Model)

# Our primary keys are BigAutoField: a cursor beyond it would overflow the database's integer.
MAX_CURSOR = 2**63 - 1
CURSOR_MESSAGE = "must be an id from the page links (a whole number from 1)"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_before: int | None  # the cursor of the next (older) page; None on the last one
    is_first: bool  # no cursor was given: this is the newest page


def parse_cursor(
    raw: str | int | None, *, name: str = "before", message: str = CURSOR_MESSAGE
) -> int | None:
    """``None`` for no cursor; the id for a valid one; ``BadParameter`` otherwise.

    ``str.isdigit`` is not enough: it accepts ``²``, which ``int`` refuses.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise BadParameter(name, message)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        value = int(raw)
    else:
        raise BadParameter(name, message)
    if not 1 <= value <= MAX_CURSOR:
        raise BadParameter(name, message)
    return value


def keyset_page(
    queryset: QuerySet[T], before: str | int | None, limit: int, *, message: str = CURSOR_MESSAGE
) -> Page[T]:
    """Up to ``limit`` rows of ``queryset`` newest first (by pk), older than ``before``.

    A ``before`` that is not a cursor raises ``BadParameter("before", message)``.
    """
    cursor = parse_cursor(before, message=message)
    if cursor is not None:
        queryset = queryset.filter(pk__lt=cursor)
    rows = list(queryset.order_by("-pk")[: limit + 1])
    has_next = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_before=rows[-1].pk if has_next else None, is_first=cursor is None)
