"""The only writer of audit rows. Services call ``audit_record`` inside their own transactions."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from dashboard.audit.chain import CHAIN_VERSION, row_hash
from dashboard.audit.checkpoints import checkpoint_due, checkpoint_write
from dashboard.audit.models import AuditChainHead, AuditEvent, AuditSubject

Subject = AuditSubject.SubjectKind


def audit_record(
    *,
    kind: str,
    actor=None,
    job=None,
    agent_ids: list[str] | None = None,
    campaign_ids_in: list[str] | None = None,
    campaign_ids_out: list[str] | None = None,
    reason: str | None = None,
    roster_before: dict[str, list[str]] | None = None,
    roster_after: dict[str, list[str]] | None = None,
    icws_error: Any = None,
    message: str = "",
    request_id: str | None = None,
    duration_ms: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. Job fields default from ``job``; ``icws_error`` is an
    ``IcwsError``.

    Call it last in a transaction that already holds its job's row lock: it locks the chain
    head, and every writer taking the locks in that order is what keeps PostgreSQL free of
    deadlocks between job transactions.
    """
    if job is not None:
        actor = actor if actor is not None else job.requested_by
        agent_ids = agent_ids if agent_ids is not None else job.agent_ids
        campaign_ids_in = campaign_ids_in if campaign_ids_in is not None else job.campaign_ids_in
        campaign_ids_out = (
            campaign_ids_out if campaign_ids_out is not None else job.campaign_ids_out
        )
        # None means "the job's"; "" is an answer of its own (a refusal by someone else).
        reason = job.reason if reason is None else reason
        request_id = job.request_id if request_id is None else request_id
    reason, request_id = reason or "", request_id or ""
    username = getattr(actor, "username", "") or ""
    actor = actor if actor is not None and actor.pk else None
    content = {
        "hash_version": CHAIN_VERSION,
        "kind": kind,
        "actor_id": actor.pk if actor is not None else None,
        "actor_username": username,
        "job_id": job.pk if job is not None else None,
        "agent_ids": list(agent_ids or []),
        "campaign_ids_in": list(campaign_ids_in or []),
        "campaign_ids_out": list(campaign_ids_out or []),
        "reason": reason,
        "roster_before": roster_before or {},
        "roster_after": roster_after or {},
        "icws_status": getattr(icws_error, "status", None),
        "icws_error_id": getattr(icws_error, "error_id", None) or "",
        "icws_message": getattr(icws_error, "message", "") or "",
        "message": message,
        "request_id": request_id,
        "duration_ms": duration_ms,
        "details": details or {},
    }
    with transaction.atomic():
        AuditChainHead.objects.get_or_create(pk=1)  # normally a plain read: the row exists
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        # The time is taken under the lock, so seq order is time order (retention relies on it).
        content["seq"] = head.seq + 1
        content["at"] = timezone.now()
        fields = {k: v for k, v in content.items() if k not in ("job_id", "actor_id")}
        event = AuditEvent.objects.create(
            actor=actor,
            job=job,
            prev_hash=head.hash,
            hash=row_hash(head.hash, content),
            **fields,
        )
        AuditSubject.objects.bulk_create(_subjects(event))
        AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
        head.seq, head.hash = event.seq, event.hash
        if checkpoint_due(head, content["at"]):
            checkpoint_write(head, content["at"])
    return event


def _subjects(event: AuditEvent) -> list[AuditSubject]:
    agents = dict.fromkeys([*event.agent_ids, *event.roster_before, *event.roster_after])
    campaigns = dict.fromkeys([*event.campaign_ids_in, *event.campaign_ids_out])
    return [
        *(AuditSubject(event=event, kind=Subject.AGENT, subject_id=a) for a in agents),
        *(AuditSubject(event=event, kind=Subject.CAMPAIGN, subject_id=c) for c in campaigns),
    ]
