"""Thin Celery tasks: fetch by id, call the service, schedule what it asks for.

Publishing lives here too (``enqueue_job``): ``submit`` calls it on commit and the sweep task
calls it for the ids ``sweep.jobs_sweep`` returns. The services import this module, never the
other way round except ``execute`` and ``sweep``, which import no task.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from dashboard.allocations import execute, sweep
from dashboard.core.logcontext import bind_job_id
from dashboard.icws import get_client

log = logging.getLogger(__name__)
DATABASE_RETRY_SECONDS = 5


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_job_task(self, job_id: int) -> str:
    # The retry policy (which errors, how often, how long to wait) lives in execute.job_execute,
    # which records every attempt; this task only turns its answer into a delayed re-run.
    with bind_job_id(job_id):
        try:
            outcome = execute.job_execute(job_id=job_id, client=get_client())
        except (OperationalError, InterfaceError) as exc:
            # The database went away (restart, failover). The job's state is safe in it; a
            # failed move would be a lie. Try again shortly; if the job was mid-batch, its
            # lease runs out and the re-run (or the sweeper) takes it over.
            log.warning("Job %s: database unavailable (%s); retrying", job_id, exc)
            raise self.retry(countdown=DATABASE_RETRY_SECONDS, exc=exc) from exc
        except Exception as exc:  # a bug must not strand the job without a terminal state
            log.exception("Job %s failed unexpectedly", job_id)
            execute.job_fail_unexpectedly(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
            raise
    for other_id, delay in outcome.others_later:
        # Sent with this job in one call (coalescing) and due again; its own message may be
        # consumed already. A duplicate message is harmless: a run checks state under a lock.
        enqueue_job(other_id, countdown=delay)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task
def sweep_jobs_task() -> list[int]:
    swept = sweep.jobs_sweep()
    for job_id in swept:
        enqueue_job(job_id)
    return swept


def enqueue_job(job_id: int, countdown: float | None = None) -> None:
    """Publish the job's task. The job is already committed: if the broker cannot be reached,
    the supervisor still gets their job (queued) and the sweeper publishes it once the broker
    is back (ALLOCATION_STUCK_AFTER_SECONDS), instead of the request failing with a 500."""
    try:
        run_job_task.apply_async(
            (job_id,),
            countdown=countdown,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception:  # kombu raises several kinds (OperationalError, OSError, timeouts)
        log.warning(
            "Broker unreachable: job %s stays queued for the sweeper", job_id, exc_info=True
        )
