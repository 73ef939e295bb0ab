"""The beat task: thin, the clock passed in so a test (or a drill) can say what time it is."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task

from dashboard.plans.run import plans_tick

log = logging.getLogger(__name__)


@shared_task
def plans_tick_task(now: str | None = None) -> dict:
    """Start due plan runs and revert ended ones. ``now``: an ISO instant (with its offset)."""
    moment = datetime.fromisoformat(now) if now else None
    result = plans_tick(moment)
    if result.started or result.reverted or result.missed:
        log.info(
            "Plans: started runs %s, reverted %s, missed %s",
            result.started,
            result.reverted,
            result.missed,
        )
    return {"started": result.started, "reverted": result.reverted, "missed": result.missed}
