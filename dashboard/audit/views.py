"""The audit log: the filtered list, one entry, exports, and reverting a succeeded move."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from dashboard.accounts import roles
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.revert import NOTHING_TO_REVERT, job_revert, job_revert_plan
from dashboard.allocations.services import MoveRefused
from dashboard.audit.export import export_csv, export_jsonl
from dashboard.audit.models import AuditEvent
from dashboard.audit.selectors import KINDS, OUTCOMES, audit_events, audit_filter_from_params
from dashboard.directory.models import Agent, Campaign

PAGE_SIZE = 50


@require_GET
@vary_on_headers("HX-Request")
def audit_list(request: HttpRequest) -> HttpResponse:
    roles.require_audit(request.user)
    audit_filter, errors = audit_filter_from_params(request.GET)
    before = request.GET.get("before", "")
    if before and not before.isdigit():
        errors["before"] = "must be an entry id"
    events, next_before = [], None
    if not errors:
        events = audit_events(
            audit_filter, before_id=int(before) if before else None, limit=PAGE_SIZE + 1
        )
        if len(events) > PAGE_SIZE:
            events = events[:PAGE_SIZE]
            next_before = events[-1].pk
    context = {
        "nav": "audit",
        "events": events,
        "errors": errors,
        "filter": audit_filter,
        "query": urlencode(audit_filter.as_params()),
        "raw": request.GET,
        "next_before": next_before,
        "is_first_page": not before,
        "kinds": KINDS,
        "outcomes": OUTCOMES,
        "zone": timezone.get_current_timezone_name(),
    }
    status = 400 if errors else 200
    if request.htmx and not request.htmx.boosted:
        response = TemplateResponse(
            request, "audit/audit_list.html#audit-table", context, status=status
        )
        # The address bar gets the filter without its empty fields (a link worth sharing).
        shown = {**audit_filter.as_params(), **({"before": before} if before else {})}
        return push_url(response, f"{request.path}?{urlencode(shown)}" if shown else request.path)
    return TemplateResponse(request, "audit/audit_list.html", context, status=status)


@require_GET
def audit_export(request: HttpRequest, fmt: str) -> HttpResponse:
    roles.require_audit(request.user)
    audit_filter, errors = audit_filter_from_params(request.GET)
    if errors:
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        return HttpResponse(
            f"The filter is not valid: {detail}\n", status=400, content_type="text/plain"
        )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        response = StreamingHttpResponse(
            export_csv(audit_filter), content_type="text/csv; charset=utf-8"
        )
    else:
        response = StreamingHttpResponse(
            export_jsonl(audit_filter), content_type="application/x-ndjson; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def audit_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    roles.require_audit(request.user)
    event = get_object_or_404(AuditEvent.objects.select_related("job"), pk=event_id)
    agents = set(event.agent_ids) | set(event.roster_before) | set(event.roster_after)
    campaigns = set(event.campaign_ids_in) | set(event.campaign_ids_out)
    for roster in (event.roster_before, event.roster_after):
        for ids in roster.values():
            campaigns.update(ids)
    agent_names = dict(Agent.objects.filter(id__in=agents).values_list("id", "name"))
    campaign_names = dict(Campaign.objects.filter(id__in=campaigns).values_list("id", "name"))
    rows = [
        {
            "id": agent_id,
            "name": agent_names.get(agent_id, ""),
            "before": [
                (c, campaign_names.get(c, c)) for c in event.roster_before.get(agent_id, [])
            ],
            "after": [(c, campaign_names.get(c, c)) for c in event.roster_after.get(agent_id, [])],
        }
        for agent_id in sorted(agents)
    ]
    can_revert = (
        event.job is not None
        and event.kind == AuditEvent.Kind.SUCCEEDED
        and event.job.status == AllocationJob.Status.SUCCEEDED
        and roles.can_move_agents(request.user)
    )
    context = {
        "nav": "audit",
        "event": event,
        "rows": rows,
        "ins": [(c, campaign_names.get(c, c)) for c in event.campaign_ids_in],
        "outs": [(c, campaign_names.get(c, c)) for c in event.campaign_ids_out],
        "job_events": list(event.job.audit_events.order_by("seq")) if event.job else [],
        "reverts": list(event.job.reverts.all()) if event.job else [],
        "can_revert": can_revert,
    }
    return TemplateResponse(request, "audit/audit_detail.html", context)


@require_http_methods(["GET", "POST"])
def audit_revert(request: HttpRequest, event_id: int) -> HttpResponse:
    """GET: what a revert would do (the confirmation); POST: queue it."""
    roles.require_mover(request.user)
    event = get_object_or_404(AuditEvent.objects.select_related("job"), pk=event_id)
    if event.job is None:
        return redirect("audit-detail", event.pk)
    if request.method == "POST":
        try:
            jobs, plan = job_revert(
                job_id=event.job_id,
                actor=request.user,
                request_id=getattr(request, "request_id", ""),
            )
        except MoveRefused as exc:
            messages.error(request, exc.message)
            return redirect("audit-detail", event.pk)
        left = f"; {len(plan.left_alone)} left alone" if plan.left_alone else ""
        messages.success(
            request,
            f"Revert of job {event.job_id} queued as job(s) "
            f"{', '.join(str(j.pk) for j in jobs)} for {plan.agent_count} agent(s){left}.",
        )
        return redirect("job-detail", jobs[0].pk)
    try:
        plan = job_revert_plan(job_id=event.job_id)
        error = "" if plan.groups else NOTHING_TO_REVERT
    except MoveRefused as exc:
        plan, error = None, exc.message
    names = dict(Agent.objects.filter(id__in=event.job.agent_ids).values_list("id", "name"))
    moves = [
        {"id": a, "name": names.get(a, ""), "ins": g.campaign_ids_in, "outs": g.campaign_ids_out}
        for g in (plan.groups if plan else [])
        for a in g.agent_ids
    ]
    left = [
        {"id": a, "name": names.get(a, ""), "why": why}
        for a, why in (plan.left_alone.items() if plan else [])
    ]
    context = {
        "nav": "audit",
        "event": event,
        "plan": plan,
        "error": error,
        "moves": moves,
        "left": left,
    }
    return TemplateResponse(
        request, "audit/audit_revert.html", context, status=409 if error else 200
    )
