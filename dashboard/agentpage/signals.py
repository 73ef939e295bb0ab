"""A move ICWS accepted that added campaigns asks its agents for ready-for-calls.

Caught on the move's "succeeded" audit row: every move that succeeds writes exactly one, in the
transaction that moves the roster (no move without its audit row), so the request exists exactly
when the roster says the agent is in the new campaign. A job that fails after some of its batches
were accepted writes "failed", not "succeeded": its agents are not asked (the board shows the
failure, and the supervisor retries the move).
"""

from __future__ import annotations

from django.dispatch import receiver

from dashboard.agentpage.services import ready_for_calls_statement
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import written_with_row


# Not a post_save receiver: the request is a statement written with the row
# (``written_with_row``), joined with its INSERT where the writer sends rows' INSERTs itself.
@receiver(written_with_row, sender=AuditEvent, dispatch_uid="agentpage-ready-for-calls")
def _move_succeeded(sender, instance: AuditEvent, **kwargs) -> tuple[str, list] | None:
    if instance.kind == AuditEvent.Kind.SUCCEEDED and instance.job_id:
        return ready_for_calls_statement(instance.job, list(instance.agent_ids), instance.at)
    return None
