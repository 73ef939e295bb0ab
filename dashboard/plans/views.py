"""The plan pages: list, form (new, from the board, edit), detail, pause/resume, delete.

Views parse the request, call one service or selector and render; what is valid is decided by
``validate`` and who may by ``access`` (through the services), and their messages are shown as
they are made. Every change is a POST (CSRF); deleting asks first on its own page.
"""

from __future__ import annotations

import re
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.accounts import roles
from dashboard.allocations.errors import MoveRefused
from dashboard.board.moves import PickError, move_preview, selection_from
from dashboard.directory.selectors import agent_names, campaign_rows, workgroup_names
from dashboard.plans import schedule, selectors
from dashboard.plans.access import may_change
from dashboard.plans.errors import InvalidPlan, PlanForbidden, PlanNotFound
from dashboard.plans.services import (
    plan_by_id,
    plan_create,
    plan_delete,
    plan_pause,
    plan_resume,
    plan_update,
)
from dashboard.plans.validate import WEEKDAY_NAMES

_SPLIT = re.compile(r"[\s,;]+")
# A field's name as the form labels it, for the summary of what stopped a save.
FIELD_LABELS = {
    "name": "Name",
    "agent_ids": "Agents",
    "workgroup_id": "Workgroup",
    "campaign_ids_in": "Into",
    "campaign_ids_out": "Out of",
    "time_zone": "Time zone",
    "start": "Starts",
    "end_time": "Ends at",
    "repeat": "Repeats",
    "weekdays": "Weekdays",
    "days": "Specific days",
    "until": "Until",
    "reason": "Reason",
}


def _request_id(request: HttpRequest) -> str:
    return getattr(request, "request_id", "")


def _plan_or_404(plan_id: int):
    try:
        return plan_by_id(plan_id)
    except PlanNotFound as exc:
        raise Http404(exc.message) from None


@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    roles.require_board(request.user)
    rows = [
        {"plan": plan, "when": selectors.when_text(plan), "next": _first_next(plan)}
        for plan in selectors.plans()
    ]
    context = {"rows": rows, "can_create": roles.can_move_agents(request.user), "nav": "plans"}
    return TemplateResponse(request, "plans/plan_list.html", context)


def _first_next(plan):
    upcoming = selectors.upcoming_starts(plan, limit=1)
    return upcoming[0] if upcoming else None


@require_GET
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    roles.require_board(request.user)
    plan = _plan_or_404(plan_id)
    runs = selectors.runs(plan)
    skipped_ids = [a for run in runs for a in [*run.skipped, *run.revert_left_alone]]
    next_runs = selectors.next_runs(plan)
    left_out = next_runs[0].forecast.skipped if next_runs else {}
    agents, _ = selectors.names_for(plan, *skipped_ids, *left_out)
    context = {
        "plan": plan,
        "when": selectors.when_text(plan),
        "next_runs": next_runs,
        "runs": runs,
        "agents_shown": [(a, agents.get(a, a)) for a in plan.agent_ids[:20]],
        "left_out_now": [(agents.get(a, a), why) for a, why in left_out.items()],
        "may_change": may_change(request.user, plan) and not plan.is_deleted,
        "nav": "plans",
    }
    return TemplateResponse(request, "plans/plan_detail.html", context)


@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest) -> HttpResponse:
    roles.require_mover(request.user)
    if request.method == "GET":
        values = {"time_zone": selectors.default_time_zone(), "repeat": "once"}
        return _form(request, values, idempotency_key=uuid.uuid4().hex)
    data = form_data(request.POST)
    key = request.POST.get("idempotency_key") or None
    try:
        plan, created = plan_create(
            actor=request.user, data=data, idempotency_key=key, request_id=_request_id(request)
        )
    except InvalidPlan as exc:
        return _form(request, request.POST, errors=exc.fields, idempotency_key=key, status=400)
    except PlanForbidden as exc:
        raise PermissionDenied(exc.message) from None
    if created:
        messages.success(request, _saved_message(plan, "saved"))
    return redirect("plan-detail", plan.pk)


@require_POST
def plan_from_board(request: HttpRequest) -> HttpResponse:
    """The board's "Save as plan…": the form filled with the dialog's selection (nothing saved)."""
    roles.require_mover(request.user)
    try:
        preview = move_preview(selection_from(request.POST))
    except PickError as exc:
        messages.error(request, str(exc))
        return redirect("board")
    values = {
        "name": preview.summary,
        "who": "agents",
        "agent_ids": "\n".join(preview.agent_ids),
        "campaign_ids_in": preview.campaign_ids_in,
        "campaign_ids_out": preview.campaign_ids_out,
        "time_zone": selectors.default_time_zone(),
        "repeat": "once",
        "reason": request.POST.get("reason", ""),  # as typed in the dialog: checked on save
    }
    return _form(request, values, idempotency_key=uuid.uuid4().hex, from_board=True)


@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    roles.require_mover(request.user)
    plan = _plan_or_404(plan_id)
    if request.method == "GET":
        return _form(request, plan_values(plan), plan=plan)
    try:
        plan = plan_update(
            actor=request.user,
            plan_id=plan.pk,
            data=form_data(request.POST),
            request_id=_request_id(request),
        )
    except InvalidPlan as exc:
        return _form(request, request.POST, errors=exc.fields, plan=plan, status=400)
    except PlanForbidden as exc:
        raise PermissionDenied(exc.message) from None
    except MoveRefused as exc:
        messages.error(request, exc.message)
        return redirect("plan-detail", plan.pk)
    messages.success(request, _saved_message(plan, "changed; the change applies from its next run"))
    return redirect("plan-detail", plan.pk)


def _status_view(service, done: str):
    @require_POST
    def view(request: HttpRequest, plan_id: int) -> HttpResponse:
        roles.require_mover(request.user)
        plan = _plan_or_404(plan_id)
        try:
            plan = service(actor=request.user, plan_id=plan.pk, request_id=_request_id(request))
        except PlanForbidden as exc:
            raise PermissionDenied(exc.message) from None
        except MoveRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Plan “{plan.name}” {done}.")
        if plan.is_deleted:
            return redirect("plan-list")
        return redirect("plan-detail", plan.pk)

    return view


plan_pause_view = _status_view(plan_pause, "paused: it runs nothing until resumed")
plan_resume_view = _status_view(plan_resume, "resumed from its next run")
_plan_delete_post = _status_view(
    plan_delete, "deleted (a revert already due still puts its agents back)"
)


@require_http_methods(["GET", "POST"])
def plan_delete_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    if request.method == "POST":
        return _plan_delete_post(request, plan_id)
    roles.require_mover(request.user)
    plan = _plan_or_404(plan_id)
    context = {"plan": plan, "when": selectors.when_text(plan), "nav": "plans"}
    return TemplateResponse(request, "plans/plan_confirm_delete.html", context)


def _saved_message(plan, what: str) -> str:
    if plan.status == plan.Status.AWAITING:
        return f"Plan “{plan.name}” {what}; it waits for a second supervisor's approval."
    return f"Plan “{plan.name}” {what}."


# -- the form ---------------------------------------------------------------------------------


def form_data(post) -> dict:
    """The posted form as the service's plain data (lists split, checkboxes to booleans)."""
    who = post.get("who", "agents")
    weekdays = []
    for value in post.getlist("weekdays"):
        # isdigit() alone takes "²", which int() refuses: ASCII digits only, else invalid (-1).
        weekdays.append(int(value) if value.isascii() and value.isdigit() else -1)
    return {
        "name": post.get("name", ""),
        "agent_ids": [a for a in _SPLIT.split(post.get("agent_ids", "")) if a]
        if who == "agents"
        else [],
        "workgroup_id": post.get("workgroup_id") or None if who == "workgroup" else None,
        "campaign_ids_in": post.getlist("campaign_ids_in"),
        "campaign_ids_out": post.getlist("campaign_ids_out"),
        "reason": post.get("reason", ""),
        "time_zone": post.get("time_zone", "").strip(),
        "start": post.get("start", ""),
        "end_time": post.get("end_time", "") or None,
        "end_next_day": post.get("end_next_day") == "on",
        "repeat": post.get("repeat", "once"),
        "weekdays": weekdays,
        "days": [d for d in _SPLIT.split(post.get("days", "")) if d],
        "until": post.get("until", "") or None,
    }


def plan_values(plan) -> dict:
    return {
        "name": plan.name,
        "who": "workgroup" if plan.workgroup_id else "agents",
        "agent_ids": "\n".join(plan.agent_ids),
        "workgroup_id": plan.workgroup_id or "",
        "campaign_ids_in": plan.campaign_ids_in,
        "campaign_ids_out": plan.campaign_ids_out,
        "reason": plan.reason,
        "time_zone": plan.time_zone,
        "start": f"{plan.start_date.isoformat()}T{plan.start_time:%H:%M}",
        "end_time": f"{plan.end_time:%H:%M}" if plan.end_time else "",
        "end_next_day": "on" if plan.end_day_offset else "",
        "repeat": plan.repeat,
        "weekdays": [str(d) for d in plan.weekdays],
        "days": " ".join(plan.days),
        "until": plan.until.isoformat() if plan.until else "",
    }


def _form(
    request,
    values,
    *,
    errors=None,
    plan=None,
    idempotency_key=None,
    from_board=False,
    status=200,
) -> HttpResponse:
    get = values.get
    getlist = values.getlist if hasattr(values, "getlist") else (lambda k: values.get(k) or [])
    agent_ids = [a for a in _SPLIT.split(get("agent_ids", "") or "") if a]
    zone_name = get("time_zone") or selectors.default_time_zone()
    try:
        now_there = timezone.now().astimezone(schedule.zone(zone_name))
    except ValueError:
        now_there = None
    context = {
        "plan": plan,
        "v": values,
        "who": get("who") or "agents",
        "ins": set(getlist("campaign_ids_in")),
        "outs": set(getlist("campaign_ids_out")),
        "weekdays_checked": {str(d) for d in getlist("weekdays")},
        "errors": errors or {},
        "error_list": [(f, FIELD_LABELS.get(f, f), m) for f, m in (errors or {}).items()],
        "agent_lines": list(agent_names(agent_ids).items())[:200],
        "agent_count": len(agent_ids),
        "campaigns": campaign_rows(with_roster=False),
        "workgroups": sorted(workgroup_names().items(), key=lambda kv: kv[1]),
        "zones": schedule.zone_choices(),
        "zone_name": zone_name,
        "now_there": now_there,
        "site_zone": selectors.default_time_zone(),
        "weekday_names": list(enumerate(WEEKDAY_NAMES)),
        "idempotency_key": idempotency_key,
        "from_board": from_board,
        "nav": "plans",
    }
    return TemplateResponse(request, "plans/plan_form.html", context, status=status)
