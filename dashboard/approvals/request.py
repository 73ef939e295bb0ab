"""Creating a pending approval (the gate's one write), and who hears of a decision.

``request_approval`` is the one way an approval is made, for a move (from the gate) and for a
plan (from the plans app). The same ``idempotency_key`` from the same requester returns the
approval already made instead of a second one. ``on_decision`` lets the app whose thing it is
(the plans app for ``kind="plan"``) act when it is approved, rejected or expired, inside the
decision's transaction, without this app importing it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.allocations.errors import MoveConflict
from dashboard.approvals.models import Approval
from dashboard.approvals.review import snapshot
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.selectors import agent_names, campaign_names

Kind = AuditEvent.Kind
_HANDLERS: dict[str, dict[str, Callable[[Approval], None]]] = {}


def on_decision(
    kind: str,
    *,
    granted: Callable[[Approval], None],
    rejected: Callable[[Approval], None] | None = None,
    expired: Callable[[Approval], None] | None = None,
) -> None:
    """Register what happens when an approval of ``kind`` (not "move": moves are submitted by
    ``decide``) is granted, rejected or expired. Call it from an ``AppConfig.ready``."""
    _HANDLERS[kind] = {"granted": granted, "rejected": rejected, "expired": expired}


def handler(kind: str, outcome: str) -> Callable[[Approval], None] | None:
    return _HANDLERS.get(kind, {}).get(outcome)


def request_approval(
    *,
    kind: str,
    requester,
    agent_ids: list[str],
    campaign_ids_in: list[str],
    campaign_ids_out: list[str],
    reason: str = "",
    reason_code: str = "",
    needs: list[tuple[str, str]],
    idempotency_key: str | None = None,
    expected_versions: dict[str, int] | None = None,
    request_id: str = "",
    subject_id: int | None = None,
    summary: str = "",
) -> tuple[Approval, bool]:
    """A pending approval (audited ``APPROVAL_REQUESTED``) and whether it was made now.

    ``needs`` is ``gate.approval_needs``'s answer. Inputs are validated by the caller (the
    submit for moves, the plans app for plans).
    """
    if idempotency_key:
        existing = _existing(requester, idempotency_key)
        if existing is not None:
            _check_same(existing, kind, agent_ids, campaign_ids_in, campaign_ids_out)
            return existing, False
    now = timezone.now()
    words = "; ".join(w for _, w in needs)
    try:
        with transaction.atomic():
            approval = Approval.objects.create(
                kind=kind,
                requested_by=requester,
                expires_at=now + timedelta(minutes=settings.APPROVAL_EXPIRES_MINUTES),
                agent_ids=list(agent_ids),
                campaign_ids_in=list(campaign_ids_in),
                campaign_ids_out=list(campaign_ids_out),
                reason=reason,
                reason_code=reason_code,
                needs=[n for n, _ in needs],
                needs_text=words[:2000],
                expected_versions=dict(expected_versions or {}),
                snapshot=snapshot(agent_ids, [*campaign_ids_in, *campaign_ids_out]),
                idempotency_key=idempotency_key or None,
                request_id=request_id,
                subject_id=subject_id,
                summary=(summary or _summary(kind, agent_ids, campaign_ids_in, campaign_ids_out))[
                    :300
                ],
            )
            audit_record(
                kind=Kind.APPROVAL_REQUESTED,
                actor=requester,
                agent_ids=list(agent_ids),
                campaign_ids_in=list(campaign_ids_in),
                campaign_ids_out=list(campaign_ids_out),
                reason=reason,
                message=f"Approval {approval.pk} requested: {approval.summary} ({words})",
                request_id=request_id,
                details={
                    "approval_id": approval.pk,
                    "approval_kind": kind,
                    "needs": approval.needs,
                    "subject_id": subject_id,
                    "expires_at": approval.expires_at.isoformat(),
                },
            )
    except IntegrityError:
        existing = _existing(requester, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return existing, False
    return approval, True


def _existing(requester, key: str) -> Approval | None:
    return Approval.objects.filter(requested_by=requester, idempotency_key=key).first()


def _check_same(approval: Approval, kind, agent_ids, ins, outs) -> None:
    same = (
        approval.kind == kind
        and list(agent_ids) == approval.agent_ids
        and list(ins) == approval.campaign_ids_in
        and list(outs) == approval.campaign_ids_out
    )
    if not same:
        raise MoveConflict(
            f"This Idempotency-Key was already used for approval {approval.pk}, a different move",
            {"idempotency_key": "already used for a different move"},
        )


def _summary(kind: str, agent_ids: list[str], ins: list[str], outs: list[str]) -> str:
    who = (
        agent_names(agent_ids).get(agent_ids[0], agent_ids[0])
        if len(agent_ids) == 1
        else f"{len(agent_ids)} agents"
    )
    names = campaign_names([*ins, *outs])
    where = (
        "to " + ", ".join(names.get(c, c) for c in ins)
        if ins
        else "out of " + ", ".join(names.get(c, c) for c in outs)
    )
    verb = "Plan: move" if kind == Approval.Kind.PLAN else "Move"
    return f"{verb} {who} {where}"
