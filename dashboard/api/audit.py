"""/api/audit: the audit log, newest first, with the audit page's filters."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from dashboard.accounts.roles import require_audit
from dashboard.api.errors import error_body
from dashboard.api.schemas import AuditPage, ErrorOut
from dashboard.audit.selectors import audit_filter_from_params, audit_page
from dashboard.core.pagination import MAX_CURSOR

router = Router()


class AuditQuery(Schema):
    model_config = ConfigDict(extra="forbid")

    actor: str = Field("", max_length=150, description="Username of who acted, or part of it.")
    agent: str = Field(
        "", max_length=200, description="An agent's name or id, or part of it (any case/accents)."
    )
    campaign: str = Field(
        "", max_length=200, description="A campaign's name or id moved in or out, or part of it."
    )
    outcome: str = Field("", max_length=20, description="succeeded, failed, refused, ...")
    kind: str = Field("", max_length=20, description="Event type (requested, started, ...).")
    since: str = Field("", max_length=40, description="ISO 8601 date/time, inclusive.")
    until: str = Field("", max_length=40, description="ISO 8601 date/time, exclusive.")
    preset: str = Field(
        "", max_length=20, description="shift, hour, today, yesterday or week (viewer's zone)."
    )
    q: str = Field("", max_length=200, description="Text in names, ids, actor, reason or messages.")
    before: int | None = Field(
        None, ge=1, le=MAX_CURSOR, description="Keyset cursor: events older than this id."
    )
    limit: int = Field(50, ge=1, le=500)


@router.get(
    "",
    response={200: AuditPage, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
    summary="Audit events",
)
def audit_list(request: HttpRequest, filters: Query[AuditQuery]):
    require_audit(request.user)
    params = {k: str(v) for k, v in filters.dict().items() if v not in ("", None)}
    params.pop("before", None)
    params.pop("limit", None)
    audit_filter, errors = audit_filter_from_params(params)
    if errors:
        detail = "The filter is not valid: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
        return Status(400, error_body(detail, errors))
    page = audit_page(audit_filter, filters.before, filters.limit)
    next_url = None
    if page.next_before is not None:
        cursor = {**params, "before": page.next_before, "limit": filters.limit}
        next_url = f"{reverse('api:audit_list')}?{urlencode(cursor)}"
    return {"items": page.items, "next": next_url}
