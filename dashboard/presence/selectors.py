"""``listener_health()``: is presence live, and if not, since when (for /readyz, metrics, board)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from dashboard.audit.models import AuditEvent
from dashboard.presence.models import ListenerState


@dataclass(frozen=True)
class ListenerHealth:
    status: str  # "live", or "stale" (presence may be out of date), or "never" (never ran)
    since: dt.datetime | None  # live since / stale since
    last_event_at: dt.datetime | None
    last_error: str
    transport: str
    agents: int
    events: int
    reconnects: int

    @property
    def ok(self) -> bool:
        return self.status == "live"

    @property
    def presence_stale(self) -> bool:
        return not self.ok


def listener_health(now: dt.datetime | None = None) -> ListenerHealth:
    """Live when the listener says so and its heartbeat is recent; a killed listener stops
    beating, so its presence turns stale ``LISTENER_STALE_SECONDS`` after the last beat."""
    now = now or timezone.now()
    row = ListenerState.objects.filter(id=1).first()
    if row is None:
        return ListenerHealth("never", None, None, "The ICWS listener has never run.", "", 0, 0, 0)
    limit = dt.timedelta(seconds=settings.LISTENER_STALE_SECONDS)
    beating = now - row.heartbeat_at <= limit
    if row.status == ListenerState.Status.LIVE and beating:
        status, since, error = "live", row.since, ""
    elif not beating:
        status, since = "stale", row.heartbeat_at
        error = row.last_error or "The ICWS listener stopped reporting (not running?)."
    else:
        status, since = "stale", row.since
        error = row.last_error or f"The ICWS listener is {row.get_status_display().lower()}."
    return ListenerHealth(
        status=status,
        since=since,
        last_event_at=row.last_event_at,
        last_error=error,
        transport=row.transport,
        agents=row.agents,
        events=row.events,
        reconnects=row.reconnects,
    )


@dataclass(frozen=True)
class Observation:
    at: dt.datetime
    message: str
    observable: bool

    @property
    def clock(self) -> str:
        """The time it was observed, in the dashboard's time zone, with the zone."""
        return f"{timezone.localtime(self.at):%H:%M:%S %Z}"


def job_observations(job) -> list[Observation]:
    """What was observed after an accepted move (``observe.py``), oldest first: for the job page."""
    if job.pk is None:
        return []
    rows = job.audit_events.filter(kind=AuditEvent.Kind.OBSERVED).order_by("id")
    return [
        Observation(e.at, e.message, bool((e.details or {}).get("observable")))
        for e in rows.only("at", "message", "details")
    ]


def observation_expected(job, now: dt.datetime | None = None) -> bool:
    """Whether the job page should look again for the job's observation: it succeeded a moment
    ago and nothing is observed yet. Bounded by a few beat periods past the observer's delay, so
    a page does not poll for the whole window when beat is not running."""
    if job.status != "succeeded" or job.finished_at is None:
        return False
    now = now or timezone.now()
    horizon = settings.OBSERVE_AFTER_SECONDS + 4 * settings.OBSERVE_EVERY_SECONDS
    if (now - job.finished_at).total_seconds() > horizon:
        return False
    return not job.audit_events.filter(kind=AuditEvent.Kind.OBSERVED).exists()
