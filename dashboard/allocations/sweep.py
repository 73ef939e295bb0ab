"""Finding jobs that should be moving but are not (a dead worker, a lost broker message).

``jobs_sweep`` only puts them back in the queued state and returns their ids; the beat task
(``tasks.sweep_jobs_task``) publishes them, so this module never imports the tasks.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record

log = logging.getLogger(__name__)
Status = AllocationJob.Status


def jobs_sweep(*, now=None) -> list[int]:
    """Mark stuck jobs due now and return their ids, for the caller to enqueue.

    A running job whose lease expired lost its worker: it is re-queued, and its batch in flight
    is re-sent when it runs (see ``execute.SAME_END_STATE``). A queued or retrying job left
    unpublished past ``ALLOCATION_STUCK_AFTER_SECONDS`` lost its message (or the broker was down
    at submit).
    """
    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.ALLOCATION_STUCK_AFTER_SECONDS)
    swept: list[int] = []
    candidates = AllocationJob.objects.filter(
        Q(status=Status.RUNNING, lease_expires_at__lt=now)
        | Q(status__in=[Status.QUEUED, Status.RETRYING], next_attempt_at__lt=stuck_before)
    ).values_list("pk", flat=True)
    for job_id in list(candidates[:500]):
        with transaction.atomic():
            job = AllocationJob.objects.select_for_update(no_key=True).get(pk=job_id)
            lost_worker = job.status == Status.RUNNING and job.lease_expires_at < now
            lost_message = job.status in (Status.QUEUED, Status.RETRYING) and (
                job.next_attempt_at is not None and job.next_attempt_at < stuck_before
            )
            if not (lost_worker or lost_message):
                continue
            if lost_worker:
                job.status = Status.QUEUED
                audit_record(
                    kind=AuditEvent.Kind.RETRY,
                    job=job,
                    message=_lease_expired_message(job),
                )
            job.next_attempt_at = now
            job.save(update_fields=["status", "next_attempt_at", "updated_at"])
            swept.append(job.pk)
    if swept:
        log.warning("Re-enqueued stuck jobs: %s", swept)
    return swept


def _lease_expired_message(job: AllocationJob) -> str:
    """What is known when a lease ran out, not a guess at why: whether a send was in flight.
    The worker may still be alive (a slow answer); its late write is refused by the lease token."""
    in_flight = job.batches.filter(status=JobBatch.Status.SENDING).order_by("index").first()
    if in_flight is not None:
        sent = f" (sent {in_flight.sent_at:%H:%M:%S} UTC)" if in_flight.sent_at else ""
        return (
            f"Lease expired while the send of batch {in_flight.index + 1} was in flight{sent}; "
            "its answer was not recorded. Re-queued; a late answer from that worker is refused"
        )
    return "Lease expired with no send in flight (the worker stopped answering); re-queued"
