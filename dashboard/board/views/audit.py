"""The audit log's pages: the filtered list, one entry, exports, and reverting a succeeded move.

They live with the board, not in ``dashboard.audit``: they check roles, show directory names and
offer the revert (allocations), and the audit app imports none of those. Its selectors parse the
filter; what a revert does is ``dashboard.allocations.revert``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import push_url

from dashboard.accounts import roles
from dashboard.allocations.access import may_act_on_job
from dashboard.allocations.errors import MoveRefused
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.revert import NOTHING_TO_REVERT, job_revert, job_revert_plan
from dashboard.audit.export import export_csv, export_jsonl
from dashboard.audit.models import AuditEvent
from dashboard.audit.selectors import (
    FIELD_LABELS,
    KINDS,
    OUTCOMES,
    PRESETS,
    audit_filter_from_params,
    audit_move_page,
    audit_suggestions,
)
from dashboard.core.htmx import htmx_partial, wants_partial
from dashboard.core.params import BadParameter
from dashboard.directory.selectors import agent_names, campaign_names
from dashboard.ops.middleware import TIMEZONE_COOKIE

PAGE_SIZE = 25  # moves, each with its steps folded under it (about 90 events)
REVERT_REASON_MAX = 500
EXPORTS = {
    "csv": (export_csv, "text/csv; charset=utf-8"),
    "jsonl": (export_jsonl, "application/x-ndjson; charset=utf-8"),
}


@require_GET
@htmx_partial("audit/audit_list.html#audit-table")
def audit_list(request: HttpRequest) -> HttpResponse:
    roles.require_audit(request.user)
    audit_filter, errors = audit_filter_from_params(request.GET)
    before = request.GET.get("before", "")
    page = None
    try:
        page = audit_move_page(audit_filter, before, PAGE_SIZE) if not errors else None
    except BadParameter as exc:
        errors.update(exc.errors)
    context = {
        "nav": "audit",
        "moves": page.items if page else [],
        "presets": PRESETS,
        "errors": errors,
        # (URL parameter, its name on the form, what is wrong): "Event: unknown event type ..."
        "error_lines": [(f, FIELD_LABELS.get(f, f), message) for f, message in errors.items()],
        "filter": audit_filter,
        "query": urlencode(audit_filter.as_params()),
        "raw": request.GET,
        "next_before": page.next_before if page else None,
        "is_first_page": not before,
        "kinds": KINDS,
        "outcomes": OUTCOMES,
        **_zone_words(request, audit_filter),
    }
    response = TemplateResponse(
        request, "audit/audit_list.html", context, status=400 if errors else 200
    )
    if wants_partial(request):
        # The address bar gets the filter without its empty fields (a link worth sharing).
        shown = {**audit_filter.as_params(), **({"before": before} if before else {})}
        push_url(response, f"{request.path}?{urlencode(shown)}" if shown else request.path)
    return response


def _zone_words(request: HttpRequest, audit_filter) -> dict:
    """What the time fields are in: the zone's name, its UTC offset now, whether it is the
    viewer's own (the browser's, from the tz cookie dashboard.js sets) or the server's default,
    and the range a preset or the fields select, in the table's format."""
    zone = timezone.get_current_timezone_name()
    now = timezone.localtime()
    offset = now.strftime("%z")
    fmt = "%a %Y-%m-%d %H:%M"
    since, until = audit_filter.since, audit_filter.until
    range_text = ""
    if since or until:
        start = timezone.localtime(since).strftime(fmt) if since else "the first entry"
        end = timezone.localtime(until).strftime(fmt) if until else "now"
        range_text = f"{start} to {end}"
        if audit_filter.preset:
            range_text = f"{PRESETS[audit_filter.preset]}: {range_text}"
    return {
        "zone": zone,
        "zone_offset": f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC",
        "zone_is_viewers": request.COOKIES.get(TIMEZONE_COOKIE) == zone,
        "range_text": range_text,
    }


@require_GET
def audit_suggest(request: HttpRequest, field: str) -> HttpResponse:
    """Autocomplete for a filter field as the viewer types: ``<option>``s for its datalist."""
    roles.require_audit(request.user)
    text = (request.GET.get(field) or "")[:200]
    context = {"options": audit_suggestions(field, text)}
    return TemplateResponse(request, "audit/audit_list.html#audit-suggestions", context)


@require_GET
def audit_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every row the filter selects. A bad filter is a 400 before the first byte is streamed."""
    roles.require_audit(request.user)
    audit_filter, errors = audit_filter_from_params(request.GET)
    if errors:
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        return HttpResponse(
            f"The filter is not valid: {detail}\n", status=400, content_type="text/plain"
        )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    export, content_type = EXPORTS[fmt]
    response = StreamingHttpResponse(export(audit_filter), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def audit_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    roles.require_audit(request.user)
    event = get_object_or_404(AuditEvent.objects.select_related("job__requested_by"), pk=event_id)
    agents = set(event.agent_ids) | set(event.roster_before) | set(event.roster_after)
    campaigns = set(event.campaign_ids_in) | set(event.campaign_ids_out)
    for roster in (event.roster_before, event.roster_after):
        for ids in roster.values():
            campaigns.update(ids)
    # Today's names, else the names the row kept (an agent or campaign since removed).
    names = {**(event.agent_names or {}), **agent_names(agents)}
    titles = {**(event.campaign_names or {}), **campaign_names(campaigns)}

    def named(ids: list[str]) -> list[tuple[str, str]]:
        return [(c, titles.get(c, c)) for c in ids]

    rows = [
        {
            "id": agent_id,
            "name": names.get(agent_id, ""),
            "before": named(event.roster_before.get(agent_id, [])),
            "after": named(event.roster_after.get(agent_id, [])),
        }
        for agent_id in sorted(agents)
    ]
    can_revert = (
        event.job is not None
        and event.kind == AuditEvent.Kind.SUCCEEDED
        and event.job.status == AllocationJob.Status.SUCCEEDED
        and may_act_on_job(request.user, event.job)
    )
    context = {
        "nav": "audit",
        "event": event,
        "rows": rows,
        "ins": named(event.campaign_ids_in),
        "outs": named(event.campaign_ids_out),
        "job_events": list(event.job.audit_events.order_by("id")) if event.job else [],
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
    reason = (request.POST.get("reason") or "").strip()
    reason_error = (
        f"at most {REVERT_REASON_MAX} characters" if len(reason) > REVERT_REASON_MAX else ""
    )
    if request.method == "POST" and not reason_error:
        try:
            jobs, plan = job_revert(
                job_id=event.job_id,
                actor=request.user,
                request_id=getattr(request, "request_id", ""),
                reason=reason,
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
    names = agent_names(event.job.agent_ids)
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
        "reason": reason,
        "reason_error": reason_error,
        "reason_max": REVERT_REASON_MAX,
    }
    status = 409 if error else 400 if reason_error else 200
    return TemplateResponse(request, "audit/audit_revert.html", context, status=status)


@require_GET
def job_revert_start(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job page's "Revert…": the same confirmation as from the audit entry of its success."""
    roles.require_mover(request.user)
    event = (
        AuditEvent.objects.filter(job_id=job_id, kind=AuditEvent.Kind.SUCCEEDED).order_by("-pk")
    ).first()
    if event is None:
        messages.error(request, f"Job {job_id} has not succeeded: there is nothing to revert.")
        return redirect("job-detail", job_id)
    return redirect("audit-revert", event.pk)
