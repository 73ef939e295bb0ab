"""A plan's fields checked once, for the form and the API alike: every problem named by field.

Input is plain data (what the API's body or the form posts, already split into lists); the result
is the model's fields. Times are local wall times in ``time_zone`` (``schedule``): ``start`` is
``YYYY-MM-DDTHH:MM``, ``end_time`` ``HH:MM`` on the start day or, with ``end_next_day``, the day
after (an overnight shift).
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.conf import settings
from django.utils import timezone

# A plan's ids and reason become a move's (run.py submits them): the move's own rules, from one
# place, so a plan that saves is never refused at its run for its text.
from dashboard.allocations.submit import MAX_ID, MAX_REASON, clean_id_list, reason_problem
from dashboard.directory.models import Agent, Campaign, Workgroup
from dashboard.plans import schedule
from dashboard.plans.errors import InvalidPlan

MAX_NAME = 200
MAX_DAYS = 366
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def plan_fields(data: dict, *, now: datetime | None = None) -> dict:
    """The model fields for ``data``, or ``InvalidPlan`` naming every wrong field."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    out: dict = {}
    out["name"] = _text(data.get("name"), "name", MAX_NAME, errors, required=True, single_line=True)
    out["reason"] = _text(data.get("reason", ""), "reason", MAX_REASON, errors)
    agents = clean_id_list(data.get("agent_ids"), "agent_ids", errors)
    workgroup = data.get("workgroup_id") or None
    if workgroup is not None and (not isinstance(workgroup, str) or len(workgroup) > MAX_ID):
        errors["workgroup_id"] = "must be a workgroup id"
        workgroup = None
    if agents and workgroup:
        errors["agent_ids"] = "name agents or a workgroup, not both"
    elif not agents and not workgroup and "agent_ids" not in errors:
        errors["agent_ids"] = "name at least one agent, or a workgroup"
    if len(agents) > settings.ALLOCATION_MAX_AGENTS:
        errors["agent_ids"] = f"at most {settings.ALLOCATION_MAX_AGENTS} agents in one plan"
    ins = clean_id_list(data.get("campaign_ids_in"), "campaign_ids_in", errors)
    outs = clean_id_list(data.get("campaign_ids_out"), "campaign_ids_out", errors)
    if not errors.keys() & {"campaign_ids_in", "campaign_ids_out"}:
        if not ins and not outs:
            errors["campaign_ids_in"] = "name a campaign to move agents into or out of"
        elif overlap := sorted(set(ins) & set(outs)):
            errors["campaign_ids_out"] = f"campaigns both in and out: {', '.join(overlap)}"
    out.update(agent_ids=agents, workgroup_id=workgroup, campaign_ids_in=ins, campaign_ids_out=outs)
    _known(agents, workgroup, ins, outs, errors)

    tz_name = data.get("time_zone") or ""
    try:
        tz = schedule.zone(tz_name)
    except ValueError as exc:
        errors["time_zone"] = str(exc)
        tz = None
    out["time_zone"] = tz_name
    start = _local_datetime(data.get("start"), errors)
    end_time = _local_time(data.get("end_time"), "end_time", errors)
    next_day = data.get("end_next_day") is True
    if start is not None:
        out["start_date"], out["start_time"] = start.date(), start.time()
    out["end_time"], out["end_day_offset"] = end_time, 1 if next_day else 0
    if start is not None and end_time is not None and not next_day and end_time <= start.time():
        errors["end_time"] = (
            "must be after the start time (for an overnight shift, tick 'ends the next day')"
        )
    _repeat(data, out, start, errors)
    if not errors and tz is not None:
        _in_future(out, now, errors)
    if errors:
        raise InvalidPlan(
            "The plan is not valid: " + "; ".join(f"{k}: {v}" for k, v in errors.items()), errors
        )
    return out


def _text(
    value, name: str, limit: int, errors: dict, *, required: bool = False, single_line=False
) -> str:
    """Text a person gives, by the move's reason rule (``reason_problem``): it is evidence in
    the audit log; a name is also one line."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = "must be text"
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = "give the plan a name"
    elif len(value) > limit:
        errors[name] = f"at most {limit} characters"
    elif problem := reason_problem(value):
        errors[name] = problem
    elif single_line and any(ch in value for ch in "\t\n\r"):
        errors[name] = "must be one line"
    return value


def _known(agents, workgroup, ins, outs, errors: dict) -> None:
    if agents and "agent_ids" not in errors:
        known = set(Agent.objects.filter(id__in=agents, active=True).values_list("id", flat=True))
        if unknown := [a for a in agents if a not in known]:
            errors["agent_ids"] = f"unknown agents: {', '.join(unknown[:10])}"
    if workgroup and not Workgroup.objects.filter(id=workgroup).exists():
        errors["workgroup_id"] = f"unknown workgroup: {workgroup}"
    known = set(
        Campaign.objects.filter(id__in=ins + outs, active=True).values_list("id", flat=True)
    )
    for name, ids in (("campaign_ids_in", ins), ("campaign_ids_out", outs)):
        if name not in errors and (missing := [c for c in ids if c not in known]):
            errors[name] = f"unknown campaigns: {', '.join(missing[:10])}"


def _local_datetime(value, errors: dict) -> datetime | None:
    if not value or not isinstance(value, str):
        errors["start"] = "give the start date and time (YYYY-MM-DDTHH:MM, local)"
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        errors["start"] = f"{value[:40]!r} is not a date and time (YYYY-MM-DDTHH:MM, local)"
        return None
    if parsed.tzinfo is not None:
        errors["start"] = "give the local wall time without an offset; the zone is time_zone"
        return None
    return parsed.replace(second=0, microsecond=0)


def _local_time(value, name: str, errors: dict) -> time | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        errors[name] = "must be a time (HH:MM)"
        return None
    try:
        return time.fromisoformat(value.strip()).replace(second=0, microsecond=0, tzinfo=None)
    except ValueError:
        errors[name] = f"{value[:40]!r} is not a time (HH:MM)"
        return None


def _date(value, name: str, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[name] = f"{str(value)[:40]!r} is not a date (YYYY-MM-DD)"
        return None


def _repeat(data: dict, out: dict, start: datetime | None, errors: dict) -> None:
    repeat = data.get("repeat") or "once"
    if repeat not in ("once", "weekdays", "days"):
        errors["repeat"] = "must be once, weekdays or days"
        repeat = "once"
    out.update(repeat=repeat, weekdays=[], days=[], until=None)
    if repeat == "weekdays":
        weekdays = data.get("weekdays") or []
        if not isinstance(weekdays, list | tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in weekdays
        ):
            errors["weekdays"] = "must be weekday numbers, 0 (Monday) to 6 (Sunday)"
        elif not weekdays:
            errors["weekdays"] = "pick at least one weekday"
        else:
            out["weekdays"] = sorted(set(weekdays))
    elif repeat == "days":
        raw = data.get("days") or []
        if not isinstance(raw, list | tuple):
            errors["days"] = "must be a list of dates (YYYY-MM-DD)"
            raw = []
        parsed = [(v, _date(v, "days", {})) for v in raw]  # a list: an API's value may be a dict
        bad = [repr(str(v)[:40]) for v, d in parsed if d is None and v not in (None, "")]
        if bad:  # every one named, not only the last: a typo in two dates is fixed in one go
            errors["days"] = f"{', '.join(bad[:10])} {'is' if len(bad) == 1 else 'are'} not "
            errors["days"] += "a date (YYYY-MM-DD)" if len(bad) == 1 else "dates (YYYY-MM-DD)"
        days = sorted({d for _, d in parsed if d is not None})
        if "days" not in errors:
            if not days:
                errors["days"] = "give at least one date (YYYY-MM-DD)"
            elif len(days) > MAX_DAYS:
                errors["days"] = f"at most {MAX_DAYS} dates"
            elif start is not None and days[0] < start.date():
                errors["days"] = "dates before the start date never run"
        out["days"] = [d.isoformat() for d in days]
    if repeat != "once":
        until = _date(data.get("until"), "until", errors)
        if until is not None and start is not None and until < start.date():
            errors["until"] = "must be on or after the start date"
        out["until"] = until


def _in_future(out: dict, now: datetime, errors: dict) -> None:
    """A plan must have a run still to come: a one-off in the past would never run."""

    class _Probe:  # the fields schedule reads, before there is a model instance
        pass

    probe = _Probe()
    probe.__dict__.update(out)
    if not schedule.occurrences(probe, after=now, limit=1):
        field = "start" if out["repeat"] == "once" else "until"
        errors[field] = "the plan has no run left in the future (times are local to the zone)"
    elif out["repeat"] == "days" and out["until"] is None:
        out["until"] = date.fromisoformat(out["days"][-1])


def describe_repeat(plan) -> str:
    """The plan's recurrence in words, for pages and audit messages."""
    if plan.repeat == "once":
        return "Once"
    until = f" until {plan.until.isoformat()}" if plan.until else ""
    if plan.repeat == "weekdays":
        days = ", ".join(WEEKDAY_NAMES[d] for d in plan.weekdays)
        return f"Every {days}{until}"
    return f"On {', '.join(plan.days[:7])}" + (" …" if len(plan.days) > 7 else "") + until
