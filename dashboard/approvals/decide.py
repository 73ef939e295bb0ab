"""Deciding an approval: approve (and submit the move), reject, withdraw, expire.

Each decision (and expiry) claims the approval with one conditional UPDATE (still pending, time
not up) and writes its audit row in the same transaction, so two approvers clicking at once give
one decision and one job, on PostgreSQL and SQLite alike. An
approved move goes through the ordinary submit (``allocations.submit.job_submit``) as the
requester's job, checked against the approver's scope and the roster versions the approver was
shown; if the submit refuses (the roster changed again, an agent went away), the refusal is
audited, the approval stays pending and the approver sees why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from dashboard.allocations.errors import InvalidMove, MoveRefused
from dashboard.allocations.submit import MAX_REASON, job_submit, reason_problem
from dashboard.approvals.access import decision_refusal, withdraw_refusal
from dashboard.approvals.errors import ApprovalDecided, ApprovalNotFound
from dashboard.approvals.models import Approval
from dashboard.approvals.request import handler
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record

Kind = AuditEvent.Kind
Status = Approval.Status


def approve(
    *,
    approval_id: int,
    actor,
    reason: str = "",
    expected_versions: dict[str, int] | None = None,
    request_id: str = "",
) -> Approval:
    """Approve and, for a move, submit it. ``expected_versions`` are the versions the approver's
    re-preview showed (``review.Review.versions``); the move is refused if they changed since."""
    reason = _decision_reason(reason, required=False)
    approval = _check(approval_id, actor, "Approve", request_id)
    refused: MoveRefused | None = None
    with transaction.atomic():
        approval = _claim(approval_id, Status.APPROVED, actor, reason)
        job = None
        if approval.kind == Approval.Kind.MOVE:
            try:
                job, _ = job_submit(
                    actor=approval.requested_by,
                    agent_ids=approval.agent_ids,
                    campaign_ids_in=approval.campaign_ids_in,
                    campaign_ids_out=approval.campaign_ids_out,
                    reason=approval.reason,
                    idempotency_key=approval.idempotency_key or f"approval-{approval.pk}",
                    expected_versions=expected_versions,
                    request_id=request_id or approval.request_id,
                    approval=approval,
                )
            except MoveRefused as exc:
                # The submit audited its refusal; the approval goes back to pending.
                refused = exc
                Approval.objects.filter(pk=approval.pk).update(
                    status=Status.PENDING,
                    decided_by=None,
                    decided_at=None,
                    decision_reason="",
                    updated_at=timezone.now(),
                )
        if refused is None:
            approval.job = job
            approval.save(update_fields=["job", "updated_at"])
            if (on_granted := handler(approval.kind, "granted")) is not None:
                on_granted(approval)
            _audit(
                Kind.APPROVAL_GRANTED,
                approval,
                actor,
                f"Approval {approval.pk} granted by {actor.get_username()} "
                f"(requested by {approval.requested_by.get_username()})"
                + (f"; job {job.pk}" if job else ""),
                request_id,
                job=job,
            )
    if refused is not None:
        raise refused
    return approval


def reject(*, approval_id: int, actor, reason: str, request_id: str = "") -> Approval:
    """Reject with a reason (required: the requester reads it)."""
    reason = _decision_reason(reason, required=True)
    _check(approval_id, actor, "Reject", request_id)
    return _turn_down(
        approval_id,
        Status.REJECTED,
        actor,
        reason,
        request_id,
        lambda a: (
            f"Approval {a.pk} rejected by {actor.get_username()} "
            f"(requested by {a.requested_by.get_username()}): {reason}"
        ),
    )


def withdraw(*, approval_id: int, actor, request_id: str = "") -> Approval:
    """The requester takes back a request nobody has decided yet (audited as rejected)."""
    approval = _get(approval_id)
    if refusal := withdraw_refusal(actor, approval):
        raise refusal
    return _turn_down(
        approval_id,
        Status.WITHDRAWN,
        actor,
        "Withdrawn by the requester",
        request_id,
        lambda a: f"Approval {a.pk} withdrawn by its requester {actor.get_username()}",
    )


def _turn_down(
    approval_id: int,
    status: str,
    actor,
    reason: str,
    request_id: str,
    message: Callable[[Approval], str],
) -> Approval:
    """A rejection or a withdrawal: claim it, tell the kind's handler ("rejected" for both: the
    move or plan does not go ahead either way) and audit it as rejected, in one transaction."""
    with transaction.atomic():
        approval = _claim(approval_id, status, actor, reason)
        if (on_rejected := handler(approval.kind, "rejected")) is not None:
            on_rejected(approval)
        _audit(Kind.APPROVAL_REJECTED, approval, actor, message(approval), request_id)
    return approval


def expire_due(now: datetime | None = None) -> int:
    """Expire every pending approval whose time is up (beat). Returns how many expired."""
    now = now or timezone.now()
    due = Approval.objects.filter(status=Status.PENDING, expires_at__lte=now)
    return sum(_expire(approval_id, now) for approval_id in due.values_list("pk", flat=True))


def _expire(approval_id: int, now: datetime) -> bool:
    """Expire one approval if it is still pending and due (one conditional UPDATE, like a
    decision: an approval decided meanwhile is left alone). True if it expired now."""
    with transaction.atomic():
        claimed = Approval.objects.filter(
            pk=approval_id, status=Status.PENDING, expires_at__lte=now
        ).update(status=Status.EXPIRED, decided_at=timezone.now(), updated_at=timezone.now())
        if not claimed:
            return False
        approval = Approval.objects.select_related("requested_by").get(pk=approval_id)
        if (on_expired := handler(approval.kind, "expired")) is not None:
            on_expired(approval)
        _audit(
            Kind.APPROVAL_EXPIRED,
            approval,
            None,
            f"Approval {approval.pk} expired undecided (requested by "
            f"{approval.requested_by.get_username()} at "
            f"{approval.created_at:%Y-%m-%d %H:%M} UTC)",
            "",
        )
    return True


def _get(approval_id: int) -> Approval:
    approval = Approval.objects.select_related("requested_by").filter(pk=approval_id).first()
    if approval is None:
        raise ApprovalNotFound(f"Approval {approval_id} does not exist")
    return approval


def _check(approval_id: int, actor, action: str, request_id: str) -> Approval:
    """Refuse (audited) an actor who may not decide; refuse a decided approval."""
    _expire_if_due(approval_id)
    approval = _get(approval_id)
    refusal = decision_refusal(actor, approval)
    if refusal is not None:
        audit_record(
            kind=Kind.REFUSED,
            actor=actor,
            agent_ids=approval.agent_ids[:50],
            campaign_ids_in=approval.campaign_ids_in,
            campaign_ids_out=approval.campaign_ids_out,
            reason="",
            message=f"{action} of approval {approval.pk} refused: {refusal.message}",
            request_id=request_id,
            details={"approval_id": approval.pk},
        )
        raise refusal
    return approval


def _claim(approval_id: int, status: str, actor, reason: str) -> Approval:
    """Decide a pending approval whose time is not up, in one conditional UPDATE: of two
    deciders at once the second matches no row (PostgreSQL's row lock and SQLite's write lock
    both make it wait for the first), so there is one decision and one job."""
    now = timezone.now()
    claimed = Approval.objects.filter(
        pk=approval_id, status=Status.PENDING, expires_at__gt=now
    ).update(
        status=status, decided_by=actor, decided_at=now, decision_reason=reason, updated_at=now
    )
    approval = Approval.objects.select_related("requested_by", "decided_by").get(pk=approval_id)
    if claimed:
        return approval
    if approval.status == Status.PENDING:
        raise ApprovalDecided(f"Approval {approval.pk} expired before it was decided")
    raise ApprovalDecided(
        f"Approval {approval.pk} is {approval.get_status_display().lower()}; "
        "there is nothing left to decide"
    )


def _expire_if_due(approval_id: int) -> None:
    """An approval whose time is up is expired (audited) before anyone decides it."""
    _expire(approval_id, timezone.now())


def _decision_reason(reason, *, required: bool) -> str:
    if not isinstance(reason, str):
        raise InvalidMove("The reason must be text", {"reason": "must be text"})
    reason = reason.strip()
    if required and not reason:
        raise InvalidMove("Give a reason: the requester reads it", {"reason": "required"})
    if len(reason) > MAX_REASON:
        raise InvalidMove(f"The reason is at most {MAX_REASON} characters", {"reason": "too long"})
    if problem := reason_problem(reason):
        # The same rule as a move's reason: it is evidence in the audit log.
        raise InvalidMove(f"The reason is not accepted: {problem}", {"reason": problem})
    return reason


def _audit(kind, approval: Approval, actor, message: str, request_id: str, job=None) -> None:
    audit_record(
        kind=kind,
        actor=actor,
        job=job,
        agent_ids=approval.agent_ids,
        campaign_ids_in=approval.campaign_ids_in,
        campaign_ids_out=approval.campaign_ids_out,
        reason=approval.decision_reason or approval.reason,
        message=message,
        request_id=request_id or approval.request_id,
        details={
            "approval_id": approval.pk,
            "approval_kind": approval.kind,
            "requested_by": approval.requested_by.get_username(),
            "decided_by": actor.get_username() if actor is not None else "",
            "subject_id": approval.subject_id,
        },
    )
