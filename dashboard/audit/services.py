"""The only writer of audit rows. Services call ``audit_record`` inside their own transactions."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from dashboard.audit.models import AuditEvent


def audit_record(
    *,
    kind: str,
    actor=None,
    job=None,
    agent_ids: list[str] | None = None,
    campaign_ids_in: list[str] | None = None,
    campaign_ids_out: list[str] | None = None,
    reason: str = "",
    roster_before: dict[str, list[str]] | None = None,
    roster_after: dict[str, list[str]] | None = None,
    icws_error: Any = None,
    message: str = "",
    request_id: str = "",
    duration_ms: int | None = None,
) -> AuditEvent:
    """Append one event. Job fields default from ``job``; ``icws_error`` is an ``IcwsError``."""
    if job is not None:
        actor = actor if actor is not None else job.requested_by
        agent_ids = agent_ids if agent_ids is not None else job.agent_ids
        campaign_ids_in = campaign_ids_in if campaign_ids_in is not None else job.campaign_ids_in
        campaign_ids_out = (
            campaign_ids_out if campaign_ids_out is not None else job.campaign_ids_out
        )
        reason = reason or job.reason
        request_id = request_id or job.request_id
    return AuditEvent.objects.create(
        at=timezone.now(),
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        actor_username=getattr(actor, "username", "") or "",
        job=job,
        agent_ids=list(agent_ids or []),
        campaign_ids_in=list(campaign_ids_in or []),
        campaign_ids_out=list(campaign_ids_out or []),
        reason=reason,
        roster_before=roster_before or {},
        roster_after=roster_after or {},
        icws_status=getattr(icws_error, "status", None),
        icws_error_id=getattr(icws_error, "error_id", None) or "",
        icws_message=getattr(icws_error, "message", "") or "",
        message=message,
        request_id=request_id,
        duration_ms=duration_ms,
    )
