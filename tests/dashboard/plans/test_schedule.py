"""Wall times to instants across DST changes, and which dates a plan runs on."""

from datetime import UTC, date, datetime, time
from types import SimpleNamespace

import pytest

from dashboard.plans import schedule


def plan(**kw):
    base = dict(
        time_zone="Europe/Berlin",
        start_date=date(2027, 3, 24),
        start_time=time(17, 0),
        end_time=time(19, 0),
        end_day_offset=0,
        repeat="weekdays",
        weekdays=[0, 1, 2, 3, 4],
        days=[],
        until=None,
    )
    base.update(kw)
    return SimpleNamespace(**base)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def starts(p, after="2027-01-01T00:00", limit=10):
    return [o.start for o in schedule.occurrences(p, after=utc(after), limit=limit)]


def test_weekdays_keep_local_time_across_spring_forward_in_berlin():
    found = schedule.occurrences(plan(), after=utc("2027-03-24T00:00"), limit=4)
    assert [o.start for o in found] == [
        utc("2027-03-24T16:00"),  # Wed, CET
        utc("2027-03-25T16:00"),
        utc("2027-03-26T16:00"),  # Fri
        utc("2027-03-29T15:00"),  # Mon, CEST: still 17:00 local
    ]
    assert [o.local_start.hour for o in found] == [17, 17, 17, 17]
    assert found[3].end == utc("2027-03-29T17:00")


def test_fall_back_in_new_york():
    p = plan(time_zone="America/New_York", start_date=date(2027, 11, 4))
    assert starts(p, limit=3) == [
        utc("2027-11-04T21:00"),  # Thu, EDT
        utc("2027-11-05T21:00"),  # Fri
        utc("2027-11-08T22:00"),  # Mon, EST
    ]


def test_a_time_in_the_spring_gap_runs_the_gap_later():
    p = plan(start_date=date(2027, 3, 28), start_time=time(2, 30), end_time=None, repeat="once")
    (occ,) = schedule.occurrences(p, after=utc("2027-03-01T00:00"))
    assert occ.start == utc("2027-03-28T01:30")
    assert (occ.local_start.hour, occ.local_start.minute) == (3, 30)


def test_a_repeated_hour_is_its_first_occurrence():
    p = plan(start_date=date(2027, 10, 31), start_time=time(2, 30), end_time=None, repeat="once")
    (occ,) = schedule.occurrences(p, after=utc("2027-10-01T00:00"))
    assert occ.start == utc("2027-10-31T00:30")  # 02:30 CEST, not 02:30 CET


def test_overnight_end_is_the_next_day():
    p = plan(repeat="once", start_time=time(22, 0), end_time=time(6, 0), end_day_offset=1)
    (occ,) = schedule.occurrences(p, after=utc("2027-03-01T00:00"))
    assert occ.end == utc("2027-03-25T05:00")


def test_specific_days_and_until():
    p = plan(repeat="days", days=["2027-04-02", "2027-03-30"], until=date(2027, 3, 31))
    assert starts(p) == [utc("2027-03-30T15:00")]
    w = plan(until=date(2027, 3, 25))
    assert starts(w) == [utc("2027-03-24T16:00"), utc("2027-03-25T16:00")]


def test_once_in_the_past_has_no_occurrence():
    assert starts(plan(repeat="once"), after="2027-03-25T00:00") == []


def test_unknown_zone_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        schedule.zone("Mars/Olympus")
