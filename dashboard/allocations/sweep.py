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

from dashboard.allocations.models import AllocationJob
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
                    message="The worker running this job stopped answering; re-queued",
                )
            job.next_attempt_at = now
            job.save(update_fields=["status", "next_attempt_at", "updated_at"])
            swept.append(job.pk)
    if swept:
        log.warning("Re-enqueued stuck jobs: %s", swept)
    return swept
