"""/api/allocations: submit a move, read its job, list and cancel jobs."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Header, Query, Router, Status

from dashboard.accounts.roles import require_board
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.submit import job_cancel, job_submit
from dashboard.api.schemas import AllocationIn, ErrorOut, JobOut, JobPage, JobRef

router = Router()
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
        idempotency_key=idempotency_key,
        expected_versions=payload.expected_versions,
        request_id=getattr(request, "request_id", ""),
    )
    url = reverse("api:allocation_detail", args=[job.pk])
    return Status(202 if created else 200, {"id": job.pk, "status": job.status, "url": url})


@router.get("", response={200: JobPage, **ERRORS}, summary="Recent jobs, newest first")
def allocation_list(
    request: HttpRequest,
    before: int | None = Query(None, ge=1, description="Keyset cursor: jobs older than this id."),
    limit: int = Query(50, ge=1, le=200),
    status: AllocationJob.Status | None = Query(None),
    mine: bool = Query(False, description="Only jobs I requested."),
):
    require_board(request.user)
    jobs = AllocationJob.objects.select_related("requested_by").prefetch_related("batches")
    if before is not None:
        jobs = jobs.filter(pk__lt=before)
    if status:
        jobs = jobs.filter(status=status)
    if mine:
        jobs = jobs.filter(requested_by=request.user)
    page = list(jobs.order_by("-pk")[: limit + 1])
    next_url = None
    if len(page) > limit:
        page = page[:limit]
        next_url = f"{reverse('api:allocation_list')}?before={page[-1].pk}&limit={limit}"
        if status:
            next_url += f"&status={status}"
        if mine:
            next_url += "&mine=true"
    return {"items": [job_out(job) for job in page], "next": next_url}


@router.get("/{int:job_id}", response={200: JobOut, **ERRORS}, summary="One job and its batches")
def allocation_detail(request: HttpRequest, job_id: int):
    require_board(request.user)
    job = get_object_or_404(
        AllocationJob.objects.select_related("requested_by").prefetch_related("batches"), pk=job_id
    )
    return job_out(job)


@router.post(
    "/{int:job_id}/cancel", response={200: JobOut, **ERRORS}, summary="Cancel a job not yet sent"
)
def allocation_cancel(request: HttpRequest, job_id: int):
    get_object_or_404(AllocationJob, pk=job_id)
    job_cancel(job_id=job_id, actor=request.user, request_id=getattr(request, "request_id", ""))
    job = AllocationJob.objects.select_related("requested_by").prefetch_related("batches")
    return job_out(job.get(pk=job_id))


def job_out(job: AllocationJob) -> dict:
    return {
        "id": job.pk,
        "url": reverse("api:allocation_detail", args=[job.pk]),
        "status": job.status,
        "requested_by": job.requested_by.get_username(),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "agent_ids": job.agent_ids,
        "campaign_ids_in": job.campaign_ids_in,
        "campaign_ids_out": job.campaign_ids_out,
        "reason": job.reason,
        "attempts": job.attempts,
        "revert_of": job.revert_of_id,
        "error_kind": job.error_kind,
        "error_status": job.error_status,
        "error_id": job.error_id,
        "error_message": job.error_message,
        "batches": [
            {
                "index": b.index,
                "agent_ids": b.agent_ids,
                "status": b.status,
                "attempts": b.attempts,
                "error_status": b.error_status,
                "error_id": b.error_id,
                "error_message": b.error_message,
            }
            for b in job.batches.all()
        ],
    }
