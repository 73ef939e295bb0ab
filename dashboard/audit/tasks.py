"""Beat task: a signed checkpoint of the audit chain head when it moved and none is due by rows.

The writer checkpoints every ``AUDIT_CHECKPOINT_EVERY_ROWS`` rows itself; this task covers the
time bound on a quiet system, so the last rows before a lull are signed too.
"""

from celery import shared_task

from dashboard.audit.checkpoints import checkpoint_now


@shared_task(ignore_result=True)
def audit_checkpoint_task() -> int | None:
    point = checkpoint_now()
    return point.seq if point else None
