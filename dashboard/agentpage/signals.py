"""A move ICWS accepted that added campaigns asks its agents for ready-for-calls.

Caught on the move's "succeeded" audit row: every move that succeeds writes exactly one, in the
transaction that moves the roster (no move without its audit row), so the request exists exactly
when the roster says the agent is in the new campaign. A job that fails after some of its batches
were accepted writes "failed", not "succeeded": its agents are not asked (the board shows the
failure, and the supervisor retries the move).
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from dashboard.agentpage.services import ask_for_ready_for_calls
from dashboard.audit.models import AuditEvent


@receiver(post_save, sender=AuditEvent, dispatch_uid="agentpage-ready-for-calls")
def _move_succeeded(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    if created and instance.kind == AuditEvent.Kind.SUCCEEDED and instance.job_id:
        ask_for_ready_for_calls(instance.job, list(instance.agent_ids), instance.at)
