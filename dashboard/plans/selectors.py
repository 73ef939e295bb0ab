"""Reads for the plan pages and the API: plans, their next runs with a staffing forecast, runs.

The forecast of a run is ``run.start_selection`` applied to the roster now (who would move, who
would be left out) and each campaign's headcount before -> after, as the move preview counts it.
Every next run shows the same forecast: later rosters are not known, and a run's revert restores
what it moved. Names are resolved once per page (``directory.selectors``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dashboard.directory.selectors import agent_names, campaign_names, campaign_rows
from dashboard.plans import schedule
from dashboard.plans.models import Plan, PlanRun
from dashboard.plans.run import start_selection
from dashboard.plans.validate import describe_repeat

NEXT_RUNS_SHOWN = 5


@dataclass
class Headcount:
    campaign_id: str
    name: str
    before: int
    after: int


@dataclass
class Forecast:
    moving: list[str]
    skipped: dict[str, str]
    headcounts: list[Headcount] = field(default_factory=list)


@dataclass
class NextRun:
    start: datetime  # in the plan's zone
    end: datetime | None
    forecast: Forecast


def plans(*, include_deleted: bool = False) -> QuerySet[Plan]:
    rows = Plan.objects.select_related("created_by", "workgroup").annotate(run_count=Count("runs"))
    if not include_deleted:
        rows = rows.exclude(status=Plan.Status.DELETED)
    return rows


def forecast(plan: Plan) -> Forecast:
    selection = start_selection(plan)
    result = Forecast(moving=selection.agent_ids, skipped=selection.skipped)
    moving = set(selection.agent_ids)
    ids = [*plan.campaign_ids_in, *plan.campaign_ids_out]
    rows = {c.id: c for c in campaign_rows(ids=ids)}
    for campaign_id in ids:
        row = rows.get(campaign_id)
        members = set(row.agent_ids) if row else set()
        after = members | moving if campaign_id in plan.campaign_ids_in else members - moving
        result.headcounts.append(
            Headcount(campaign_id, row.name if row else campaign_id, len(members), len(after))
        )
    return result


def next_runs(plan: Plan, *, now: datetime | None = None, limit: int = NEXT_RUNS_SHOWN):
    """The plan's next runs (none while paused or deleted), each with the forecast."""
    if plan.status != Plan.Status.ACTIVE:
        return []
    now = now or timezone.now()
    claimed = set(plan.runs.values_list("scheduled_at", flat=True))
    upcoming = [
        occ
        for occ in schedule.occurrences(plan, after=max(now, plan.runs_from), limit=limit + 2)
        if occ.start not in claimed
    ][:limit]
    if not upcoming:
        return []
    shared = forecast(plan)
    return [NextRun(occ.local_start, occ.local_end, shared) for occ in upcoming]


def upcoming_starts(plan: Plan, *, limit: int = 1) -> list[datetime]:
    """The next start times (in the plan's zone), without the forecast (for the list page)."""
    if plan.status != Plan.Status.ACTIVE:
        return []
    occs = schedule.occurrences(plan, after=max(timezone.now(), plan.runs_from), limit=limit)
    return [occ.local_start for occ in occs]


def runs(plan: Plan, *, limit: int = 50) -> list[PlanRun]:
    return list(
        plan.runs.select_related("job")
        .prefetch_related("revert_jobs")
        .order_by("-scheduled_at")[:limit]
    )


def plan_run_of_job(job) -> PlanRun | None:
    """The plan run that started ``job`` or whose end reverts it (``run.job_id != job.pk``), or
    None for a job no plan made. One query."""
    return (
        PlanRun.objects.select_related("plan")
        .filter(Q(job=job) | Q(revert_jobs=job))
        .order_by("-scheduled_at")
        .first()
    )


def names_for(plan: Plan, *extra_agent_ids: str) -> tuple[dict[str, str], dict[str, str]]:
    agents = agent_names([*plan.agent_ids, *extra_agent_ids])
    campaigns = campaign_names([*plan.campaign_ids_in, *plan.campaign_ids_out])
    return agents, campaigns


def when_text(plan: Plan) -> str:
    """ "Every Mon, Tue at 17:00-19:00 (Europe/Berlin)"."""
    end = ""
    if plan.end_time is not None:
        end = f"-{plan.end_time:%H:%M}" + (" next day" if plan.end_day_offset else "")
    start = "" if plan.repeat != "once" else f" {plan.start_date.isoformat()}"
    return f"{describe_repeat(plan)}{start} at {plan.start_time:%H:%M}{end} ({plan.time_zone})"


def default_time_zone() -> str:
    return settings.PLANS_DEFAULT_TIME_ZONE
