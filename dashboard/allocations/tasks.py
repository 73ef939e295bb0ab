"""Thin Celery tasks: fetch by id, call the service, schedule what it asks for."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from dashboard.allocations import services
from dashboard.core.logcontext import bind_job_id
from dashboard.icws import get_client

log = logging.getLogger(__name__)
DATABASE_RETRY_SECONDS = 5


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_job_task(self, job_id: int) -> str:
    # The retry policy (which errors, how often, how long to wait) lives in services.job_execute,
    # which records every attempt; this task only turns its answer into a delayed re-run.
    with bind_job_id(job_id):
        try:
            outcome = services.job_execute(job_id=job_id, client=get_client())
        except (OperationalError, InterfaceError) as exc:
            # The database went away (restart, failover). The job's state is safe in it; a
            # failed move would be a lie. Try again shortly; if the job was mid-batch, its
            # lease runs out and the re-run (or the sweeper) takes it over.
            log.warning("Job %s: database unavailable (%s); retrying", job_id, exc)
            raise self.retry(countdown=DATABASE_RETRY_SECONDS, exc=exc) from exc
        except Exception as exc:  # a bug must not strand the job without a terminal state
            log.exception("Job %s failed unexpectedly", job_id)
            services.job_fail_unexpectedly(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
            raise
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task
def sweep_jobs_task() -> list[int]:
    return services.jobs_sweep()
