"""Beat tasks: the chainer, and a signed checkpoint of the chain head on a quiet system.

``audit_chain_task`` links the rows written since it last ran (``audit.chainer``), checkpointing
every ``AUDIT_CHECKPOINT_EVERY_ROWS`` rows as it goes; ``audit_checkpoint_task`` covers the time
bound, so the last rows before a lull are signed too.
"""

from celery import shared_task

from dashboard.audit.chainer import chain_pending
from dashboard.audit.checkpoints import checkpoint_now


@shared_task(ignore_result=True)
def audit_chain_task() -> int:
    return chain_pending()


@shared_task(ignore_result=True)
def audit_checkpoint_task() -> int | None:
    chain_pending()
    point = checkpoint_now()
    return point.seq if point else None
