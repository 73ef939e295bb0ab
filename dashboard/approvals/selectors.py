"""Reads of approvals for the pages, the board's panel and the API."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from dashboard.approvals.access import may_decide
from dashboard.approvals.errors import ApprovalNotFound
from dashboard.approvals.models import Approval
from dashboard.audit.models import AuditEvent

Status = Approval.Status
RECENT = 50
# The requester's panel keeps a decision on their request this long, so they see the outcome.
DECIDED_SHOWN_FOR = timedelta(hours=1)
DECIDED_SHOWN = 5


def approvals() -> QuerySet[Approval]:
    return Approval.objects.select_related("requested_by", "decided_by", "job")


def approval_by_id(approval_id: int) -> Approval:
    approval = approvals().filter(pk=approval_id).first()
    if approval is None:
        raise ApprovalNotFound(f"Approval {approval_id} does not exist")
    return approval


def granted_for_job(job) -> Approval | None:
    """The approval ``job`` ran under, or None for a job nobody approved. Two queries.

    A move's approval names its job; a plan's names none (its runs and reverts are submitted
    under it), so the job's REQUESTED audit row is read too: it records the approval the submit
    was given (``gate.approval_details``), whichever revision of the plan was current then."""
    requested = (
        AuditEvent.objects.filter(job=job, kind=AuditEvent.Kind.REQUESTED)
        .values_list("details", flat=True)
        .first()
    )
    approval_id = requested.get("approval_id") if isinstance(requested, dict) else None
    recorded = Q(pk=approval_id) if isinstance(approval_id, int) else Q(pk__in=[])
    return approvals().filter(Q(job=job) | recorded, status=Status.APPROVED).first()


def pending() -> QuerySet[Approval]:
    """Pending and not yet past their time (the beat expires those within a minute)."""
    return approvals().filter(status=Status.PENDING, expires_at__gt=timezone.now())


def pending_for(user) -> list[Approval]:
    """Pending approvals ``user`` may decide: not their own, within their scope."""
    return [a for a in pending().exclude(requested_by=user) if may_decide(user, a)]


def waiting_on_others(user) -> list[Approval]:
    """``user``'s own requests still waiting."""
    return list(pending().filter(requested_by=user))


def decided_for_requester(user) -> list[Approval]:
    """``user``'s requests decided (or expired) in the last hour, newest first."""
    since = timezone.now() - DECIDED_SHOWN_FOR
    mine = approvals().filter(requested_by=user, updated_at__gte=since)
    return list(mine.exclude(status=Status.PENDING).order_by("-updated_at")[:DECIDED_SHOWN])


def recent_decided() -> list[Approval]:
    return list(approvals().exclude(status=Status.PENDING)[:RECENT])


def panel_revision(user) -> str:
    """Changes when anything the board's approvals panel shows for ``user`` could change."""
    latest = Approval.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    count = pending().count()
    return f"{count}-{latest.timestamp() if latest else 0}-{user.pk}"
