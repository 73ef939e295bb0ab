"""The listener's writes to its health row (``models.ListenerState``); ``selectors`` reads it."""

from __future__ import annotations

import os

from django.db.models import F
from django.utils import timezone

from dashboard.presence.models import ListenerState


def set_status(status: str, *, error: str = "", transport: str = "", agents: int = 0) -> None:
    """A status change: ``since`` moves only when the status really changes."""
    now = timezone.now()
    row, created = ListenerState.objects.get_or_create(
        id=1, defaults={"status": status, "since": now, "heartbeat_at": now}
    )
    fields = {"heartbeat_at": now, "last_error": error[:2000], "pid": os.getpid()}
    if row.status != status or created:
        fields["since"] = now
    if status == ListenerState.Status.LIVE:
        fields.update(transport=transport, agents=agents)
    if status == ListenerState.Status.RECONNECTING and row.status != status:
        fields["reconnects"] = F("reconnects") + 1
    ListenerState.objects.filter(id=1).update(status=status, **fields)


def beat(events: int = 0) -> None:
    """Alive (and ``events`` messages handled since the last beat)."""
    now = timezone.now()
    fields: dict = {"heartbeat_at": now}
    if events:
        fields.update(last_event_at=now, events=F("events") + events)
    ListenerState.objects.filter(id=1).update(**fields)
