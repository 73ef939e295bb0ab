"""From a plan's local wall times to the instants it runs at, across DST changes.

A plan's times are wall times in its IANA zone (``zoneinfo``). Each run date gets its own UTC
offset, so "17:00 on weekdays in Europe/Berlin" is 16:00 UTC in winter and 15:00 UTC in summer.
Two wall times need a rule, and the same one applies everywhere:

- a time that does not exist that day (the hour skipped when clocks go forward) is read with the
  offset before the change, so it lands the length of the gap later in wall time (02:30 on the
  spring-forward night in Berlin runs at 03:30 CEST);
- a time that exists twice (the hour repeated when clocks go back) is its first occurrence
  (``fold=0``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# A recurring plan without an end date is searched this far ahead for its next runs.
HORIZON_DAYS = 800


@dataclass(frozen=True)
class Occurrence:
    start: datetime  # aware, UTC
    end: datetime | None  # aware, UTC; None: the plan does not revert
    local_start: datetime  # aware, in the plan's zone
    local_end: datetime | None


def zone(name: str) -> ZoneInfo:
    """The zone, or ValueError naming the problem (never a 500 for a typo)."""
    if not isinstance(name, str) or not name or name not in _zone_names():
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - listed but unreadable
        raise ValueError(f"time zone {name!r} cannot be read: {exc}") from None


def _zone_names() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones() | {"UTC"}
    return _ZONES


_ZONES: set[str] | None = None


def zone_choices() -> list[str]:
    return sorted(_zone_names())


def to_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at wall time ``at`` in ``tz``, as an aware UTC datetime (rules in the docstring)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def run_dates(plan, since: date) -> Iterator[date]:
    """The plan's local run dates from ``since`` on, in order."""
    first = max(since, plan.start_date)
    if plan.repeat == "once":
        if plan.start_date >= since:
            yield plan.start_date
        return
    last = plan.until or (first + timedelta(days=HORIZON_DAYS))
    if plan.repeat == "days":
        for iso in sorted(set(plan.days)):
            day = date.fromisoformat(iso)
            if first <= day <= last:
                yield day
        return
    weekdays = set(plan.weekdays)
    day = first
    while day <= last:
        if day.weekday() in weekdays:
            yield day
        day += timedelta(days=1)


def occurrence_on(plan, day: date) -> Occurrence:
    tz = zone(plan.time_zone)
    start = to_instant(day, plan.start_time, tz)
    end = None
    if plan.end_time is not None:
        end = to_instant(day + timedelta(days=plan.end_day_offset), plan.end_time, tz)
    return Occurrence(
        start=start,
        end=end,
        local_start=start.astimezone(tz),
        local_end=end.astimezone(tz) if end else None,
    )


def occurrences(plan, *, after: datetime, until: datetime | None = None, limit: int = 10):
    """Occurrences starting at or after ``after`` (and not after ``until``), at most ``limit``."""
    tz = zone(plan.time_zone)
    # A day back: the local date of ``after`` may be ahead of a run that is still to come.
    since = after.astimezone(tz).date() - timedelta(days=1)
    found: list[Occurrence] = []
    for day in run_dates(plan, since):
        occ = occurrence_on(plan, day)
        if until is not None and occ.start > until:
            break
        if occ.start >= after:
            found.append(occ)
            if len(found) >= limit:
                break
    return found
