"""Beat: expire pending approvals nobody decided in time."""

from __future__ import annotations

from celery import shared_task
from django.utils.dateparse import parse_datetime

from dashboard.approvals.decide import expire_due


@shared_task(name="dashboard.approvals.tasks.expire_approvals_task", ignore_result=True)
def expire_approvals_task(now: str | None = None) -> int:
    """``now`` (ISO 8601) lets a test move the clock without sleeping; beat sends none."""
    return expire_due(parse_datetime(now) if now else None)
