"""/api/allocations: submit a move, read its job, list and cancel jobs."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Header, Query, Router, Status

from dashboard.accounts.roles import require_board
from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.allocations.submit import job_cancel, job_submit
from dashboard.api.schemas import AllocationIn, ErrorOut, JobOut, JobPage, JobRef, job_url
from dashboard.core.pagination import MAX_CURSOR, keyset_page
from dashboard.core.prepared import PreparedRead

router = Router()
User = get_user_model()
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.post("", response={200: JobRef, 202: JobRef, **ERRORS}, summary="Move agents")
def allocation_create(
    request: HttpRequest,
    payload: AllocationIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="Send the same key again to get the same job back (200) instead of a new one.",
    ),
):
    """Queue a move: 202 with the new job; 200 with the existing job for a repeated key.

    Nothing is queued when the body is invalid (400), the role may not move these agents (403,
    audited) or the roster changed since ``expected_versions`` were read (409, audited).
    """
    job, created = job_submit(
        actor=request.user,
        agent_ids=payload.agent_ids,
        campaign_ids_in=payload.campaign_ids_in,
        campaign_ids_out=payload.campaign_ids_out,
        reason=payload.reason,
        reason_code=payload.reason_code,
        idempotency_key=idempotency_key,
        expected_versions=payload.expected_versions,
        request_id=getattr(request, "request_id", ""),
    )
    return Status(
        202 if created else 200, {"id": job.pk, "status": job.status, "url": job_url(job.pk)}
    )


@router.get("", response={200: JobPage, **ERRORS}, summary="Recent jobs, newest first")
def allocation_list(
    request: HttpRequest,
    before: int | None = Query(
        None, ge=1, le=MAX_CURSOR, description="Keyset cursor: jobs older than this id."
    ),
    limit: int = Query(50, ge=1, le=200),
    status: AllocationJob.Status | None = Query(None),
    mine: bool = Query(False, description="Only jobs I requested."),
):
    require_board(request.user)
    jobs = _jobs()
    if status:
        jobs = jobs.filter(status=status)
    if mine:
        jobs = jobs.filter(requested_by=request.user)
    page = keyset_page(jobs, before, limit)
    next_url = None
    if page.next_before is not None:
        next_url = f"{reverse('api:allocation_list')}?before={page.next_before}&limit={limit}"
        if status:
            next_url += f"&status={status}"
        if mine:
            next_url += "&mine=true"
    return {"items": page.items, "next": next_url}


def _jobs():
    """Jobs with what ``JobOut`` reads: the requester and the batches, in two extra queries."""
    return AllocationJob.objects.select_related("requested_by").prefetch_related("batches")


@router.get("/{int:job_id}", response={200: JobOut, **ERRORS}, summary="One job and its batches")
def allocation_detail(request: HttpRequest, job_id: int):
    require_board(request.user)
    return _job_with_batches(job_id)


_JOB_COLUMNS = tuple(f.attname for f in AllocationJob._meta.concrete_fields)
_BATCH_COLUMNS = tuple(f.attname for f in JobBatch._meta.concrete_fields)
# What ``_jobs().get(pk=...)`` reads, in its two statements, compiled once (``core.prepared``):
# building the two querysets was half a job GET's CPU, and supervisors poll this every 200 ms.
_JOB_READ = PreparedRead(
    lambda job_id: (
        AllocationJob.objects.filter(pk=job_id)
        .order_by()
        .values_list("requested_by__username", *_JOB_COLUMNS)
    )
)
_BATCHES_READ = PreparedRead(
    lambda job_id: (
        JobBatch.objects.filter(job_id=job_id).order_by("index").values_list(*_BATCH_COLUMNS)
    )
)


def _job_with_batches(job_id: int) -> AllocationJob:
    """The job as ``JobOut`` reads it: its requester's username and its batches kept on it."""
    found = _JOB_READ.rows(job_id)
    if not found:
        raise Http404("No job with this id")
    username, *values = found[0]
    job = AllocationJob.from_db(DEFAULT_DB_ALIAS, _JOB_COLUMNS, values)
    if job.requested_by_id is not None:
        job.requested_by = User.from_db(
            DEFAULT_DB_ALIAS, ("id", "username"), (job.requested_by_id, username)
        )
    batches = [
        JobBatch.from_db(DEFAULT_DB_ALIAS, _BATCH_COLUMNS, row)
        for row in _BATCHES_READ.rows(job_id)
    ]
    for batch in batches:
        batch.job = job
    # Where prefetch_related("batches") keeps them: job.batches.all() answers from here.
    job._prefetched_objects_cache = {"batches": batches}
    return job


@router.post(
    "/{int:job_id}/cancel", response={200: JobOut, **ERRORS}, summary="Cancel a job not yet sent"
)
def allocation_cancel(request: HttpRequest, job_id: int):
    get_object_or_404(AllocationJob, pk=job_id)
    job_cancel(job_id=job_id, actor=request.user, request_id=getattr(request, "request_id", ""))
    return _jobs().get(pk=job_id)
