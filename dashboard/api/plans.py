"""/api/plans: list, create (Idempotency-Key), read, pause, resume and delete shift plans.

The same services as the plan pages (``dashboard.plans.services``): validation, roles, scope
and the audit rows are theirs. Times are local wall times in the plan's ``time_zone``; a plan's
``next_runs`` give each start and end as an instant with its offset, and the forecast headcounts.
"""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Header, Router, Schema, Status

from dashboard.accounts.roles import require_board
from dashboard.api.schemas import ErrorOut, Strict
from dashboard.plans import selectors
from dashboard.plans.models import Plan
from dashboard.plans.services import (
    plan_by_id,
    plan_create,
    plan_delete,
    plan_pause,
    plan_resume,
)

router = Router()
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class PlanIn(Strict):
    name: str = Field(..., description="Shown on the plan's page and in every audit row.")
    agent_ids: list[str] = Field(
        default_factory=list, description="ICWS user ids (or give workgroup_id instead)."
    )
    workgroup_id: str | None = Field(
        None, description="Every agent of this workgroup, resolved when each run starts."
    )
    campaign_ids_in: list[str] = Field(default_factory=list)
    campaign_ids_out: list[str] = Field(default_factory=list)
    reason: str = ""
    time_zone: str = Field(..., description="IANA zone the times are wall-clock times in.")
    start: str = Field(..., description="First run, local: YYYY-MM-DDTHH:MM (no offset).")
    end_time: str | None = Field(None, description="HH:MM local; agents are put back then.")
    end_next_day: bool = Field(False, description="The end is the day after the start.")
    repeat: Plan.Repeat = Plan.Repeat.ONCE
    weekdays: list[int] = Field(default_factory=list, description="0 = Monday .. 6 = Sunday.")
    days: list[str] = Field(default_factory=list, description="YYYY-MM-DD, for repeat=days.")
    until: str | None = Field(None, description="Last local date a recurring plan runs.")


class HeadcountOut(Schema):
    campaign_id: str
    name: str
    before: int
    after: int


class NextRunOut(Schema):
    start: datetime
    end: datetime | None
    agents_moving: int
    agents_left_out: dict[str, str]
    headcounts: list[HeadcountOut]


class PlanRunOut(Schema):
    id: int
    scheduled_at: datetime
    revert_at: datetime | None
    status: str
    job_id: int | None
    revert_job_ids: list[int]
    skipped: dict[str, str]
    revert_left_alone: dict[str, str]
    message: str

    @staticmethod
    def resolve_revert_job_ids(run) -> list[int]:
        return [job.pk for job in run.revert_jobs.all()]


class PlanOut(Schema):
    id: int
    url: str
    name: str
    status: str
    created_by: str
    created_at: datetime
    revision: int
    agent_ids: list[str]
    workgroup_id: str | None
    campaign_ids_in: list[str]
    campaign_ids_out: list[str]
    reason: str
    time_zone: str
    start: str
    end_time: str | None
    end_next_day: bool
    repeat: str
    weekdays: list[int]
    days: list[str]
    until: date | None
    when: str
    approval_id: int | None

    @staticmethod
    def resolve_url(plan) -> str:
        return reverse("api:plan_detail", args=[plan.pk])

    @staticmethod
    def resolve_created_by(plan) -> str:
        return plan.created_by.get_username()

    @staticmethod
    def resolve_start(plan) -> str:
        return f"{plan.start_date.isoformat()}T{plan.start_time:%H:%M}"

    @staticmethod
    def resolve_end_time(plan) -> str | None:
        return f"{plan.end_time:%H:%M}" if plan.end_time else None

    @staticmethod
    def resolve_end_next_day(plan) -> bool:
        return bool(plan.end_day_offset)

    @staticmethod
    def resolve_when(plan) -> str:
        return selectors.when_text(plan)


class PlanDetailOut(PlanOut):
    next_runs: list[NextRunOut]
    runs: list[PlanRunOut]

    @staticmethod
    def resolve_next_runs(plan) -> list[dict]:
        return [
            {
                "start": run.start,
                "end": run.end,
                "agents_moving": len(run.forecast.moving),
                "agents_left_out": run.forecast.skipped,
                "headcounts": [h.__dict__ for h in run.forecast.headcounts],
            }
            for run in selectors.next_runs(plan)
        ]

    @staticmethod
    def resolve_runs(plan) -> list:
        return selectors.runs(plan)


class PlanList(Schema):
    items: list[PlanOut]


def _request_id(request) -> str:
    return getattr(request, "request_id", "")


@router.get(
    "", response={200: PlanList, **ERRORS}, summary="Plans, by name (deleted ones left out)"
)
def plan_list(request: HttpRequest):
    require_board(request.user)
    return {"items": list(selectors.plans())}


@router.post(
    "", response={200: PlanDetailOut, 201: PlanDetailOut, **ERRORS}, summary="Create a plan"
)
def plan_create_view(
    request: HttpRequest,
    payload: PlanIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="Send the same key again to get the same plan back (200) instead of a new one.",
    ),
):
    """201 with the new plan; 200 with the plan a repeated key made. 400 names each wrong field;
    403 when the role or scope may not move these agents (audited). A plan that needs four-eyes
    approval is created with status ``awaiting`` and runs nothing until approved."""
    plan, created = plan_create(
        actor=request.user,
        data=payload.dict(),
        idempotency_key=idempotency_key,
        request_id=_request_id(request),
    )
    return Status(201 if created else 200, plan_by_id(plan.pk))


@router.get("/{int:plan_id}", response={200: PlanDetailOut, **ERRORS}, summary="One plan")
def plan_detail(request: HttpRequest, plan_id: int):
    """The plan, its next runs with the forecast headcounts, and its runs with their outcomes."""
    require_board(request.user)
    return plan_by_id(plan_id)


@router.post("/{int:plan_id}/pause", response={200: PlanDetailOut, **ERRORS}, summary="Pause")
def plan_pause_view(request: HttpRequest, plan_id: int):
    plan_pause(actor=request.user, plan_id=plan_id, request_id=_request_id(request))
    return plan_by_id(plan_id)


@router.post("/{int:plan_id}/resume", response={200: PlanDetailOut, **ERRORS}, summary="Resume")
def plan_resume_view(request: HttpRequest, plan_id: int):
    """Runs from the next start after now (runs skipped while paused are not caught up)."""
    plan_resume(actor=request.user, plan_id=plan_id, request_id=_request_id(request))
    return plan_by_id(plan_id)


@router.delete("/{int:plan_id}", response={200: PlanDetailOut, **ERRORS}, summary="Delete")
def plan_delete_view(request: HttpRequest, plan_id: int):
    """The plan stops running (status ``deleted``); its runs and audit rows are kept, and a revert
    already due still happens."""
    plan_delete(actor=request.user, plan_id=plan_id, request_id=_request_id(request))
    return plan_by_id(plan_id)
