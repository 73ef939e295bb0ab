"""Beat task: look at recently accepted moves and record what was observed (``observe.py``)."""

from celery import shared_task

from dashboard.presence.observe import observe_recent_moves


@shared_task(ignore_result=True)
def observe_moves_task() -> int:
    return observe_recent_moves()
