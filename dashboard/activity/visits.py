"""When a supervisor last had a board open, and what a new sign-in remembers of it.

The activity poll of an open board notes the visit; a write at most every
``VISIT_WRITE_SECONDS`` per user and process (the poll runs every second). At sign-in the last
visit is copied into the new session, so the board can list the user's jobs that finished
while they were away, once, before the first poll of the new session moves the visit on.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.utils import timezone

from dashboard.activity.models import BoardVisit
from dashboard.activity.selectors import last_visit

VISIT_WRITE_SECONDS = 10.0
AWAY_SINCE = "board_away_since"  # session key: ISO time of the previous session's last visit
_written: dict[int, float] = {}  # user id -> monotonic time this process last wrote the visit


def note_visit(user) -> None:
    now = time.monotonic()
    if now - _written.get(user.pk, -VISIT_WRITE_SECONDS) < VISIT_WRITE_SECONDS:
        return
    _written[user.pk] = now
    BoardVisit.objects.bulk_create(  # an upsert: two workers' first writes cannot collide
        [BoardVisit(user=user, seen_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["seen_at"],
    )


def remember_away_since(request, user) -> None:
    """At sign-in: keep the previous last visit in the session (nothing on a first sign-in)."""
    seen = last_visit(user)
    if seen is not None:
        request.session[AWAY_SINCE] = seen.isoformat()
    _written.pop(user.pk, None)  # the first poll of the new session writes the visit at once


def take_away_since(request) -> datetime | None:
    """The last visit before this session, once: the second read returns None."""
    raw = request.session.pop(AWAY_SINCE, None)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        return None
