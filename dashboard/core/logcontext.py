"""Context that log lines carry: the request id (set by the middleware) and the job id (tasks).

Context variables, not thread locals: each request, thread and Celery task sees its own values,
and ``dashboard.ops.logformat.ContextFilter`` copies them onto every record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("dashboard_request_id", default=None)
job_id_var: ContextVar[int | str | None] = ContextVar("dashboard_job_id", default=None)


@contextmanager
def bind_job_id(job_id: int | str, *, request_id: str | None = None) -> Iterator[None]:
    """Tag log lines inside the block with ``job_id`` (and the request id that created the job).

    ``with bind_job_id(job.pk, request_id=job.request_id): services.job_execute(...)``
    """
    job_token = job_id_var.set(job_id)
    request_token = request_id_var.set(request_id) if request_id else None
    try:
        yield
    finally:
        if request_token is not None:
            request_id_var.reset(request_token)
        job_id_var.reset(job_token)


@contextmanager
def bind_request_id(request_id: str) -> Iterator[None]:
    """Tag log lines inside the block with ``request_id`` (used by ``RequestIdMiddleware``)."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)
