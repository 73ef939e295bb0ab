"""Jobs: the list (the board's drawer links here), one job's page, its polling status, retry,
and, after a sign-in, the user's jobs that finished while they were away.

"While you were away" lists each finished job once: jobs finish between the last visit before
this sign-in and now, and both seeing that list and seeing a job end live (its status poll on
the board or the job page) move the user's visit to now (``_seen_now``). The board's own poll
notes visits only every ``VISIT_WRITE_SECONDS`` per process, so without that a job seen ending
a few seconds before the tab closed, or a list shown just before a sign-out, came back on every
later sign-in.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRedirect, trigger_client_event

from dashboard.accounts import roles
from dashboard.activity.models import BoardVisit
from dashboard.activity.selectors import display_name
from dashboard.activity.visits import take_away_since
from dashboard.allocations.errors import MoveRefused, refusal_status
from dashboard.allocations.explain import explain_job
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.submit import job_cancel, job_retry
from dashboard.approvals.selectors import granted_for_job
from dashboard.board.job_words import agent_labels, describe_jobs, words_of
from dashboard.core.pagination import keyset_page
from dashboard.core.params import BadParameter, bad_parameter_response
from dashboard.plans.selectors import plan_run_of_job
from dashboard.presence.selectors import observation_expected

PAGE_SIZE = 50
PAGE_CURSOR = "must be a job number (the page links set it)"
AWAY_SHOWN = 10  # jobs listed in "While you were away"; the rest are counted


def _get_job(job_id: int) -> AllocationJob:
    return get_object_or_404(
        AllocationJob.objects.select_related("requested_by").prefetch_related("batches"),
        pk=job_id,
    )


@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    roles.require_board(request.user)
    jobs = AllocationJob.objects.select_related("requested_by")
    mine = request.GET.get("mine") == "1"
    if mine:
        jobs = jobs.filter(requested_by=request.user)
    try:
        page = keyset_page(jobs, request.GET.get("before"), PAGE_SIZE, message=PAGE_CURSOR)
    except BadParameter as exc:
        return bad_parameter_response(exc)
    context = {
        "nav": "jobs",
        "jobs": describe_jobs(page.items),
        "mine": mine,
        "next_before": page.next_before,
        "is_first_page": page.is_first,
    }
    return TemplateResponse(request, "board/job_list.html", context)


@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    roles.require_board(request.user)
    job = _get_job(job_id)
    names = agent_labels(job.agent_ids)  # a namesake's id beside the name
    approval = granted_for_job(job)
    context = {
        "nav": "jobs",
        "job": job,
        "explanation": explain_job(job),
        "watch_observation": observation_expected(job),
        "agents": [(a, names.get(a, a)) for a in job.agent_ids],
        "requested_by_name": display_name(job.requested_by),
        "approval": approval,
        "approved_by_name": display_name(approval.decided_by) if approval else "",
        "plan_run": plan_run_of_job(job),
    }
    return TemplateResponse(request, "board/job.html", context)


@require_GET
def jobs_away(request: HttpRequest) -> HttpResponse:
    """The board's jobs panel asks once, on load: the user's jobs that finished between their
    last visit before this sign-in and now (204, nothing to show, on any later load)."""
    roles.require_board(request.user)
    since = take_away_since(request)
    if since is None:
        return HttpResponse(status=204)
    finished = AllocationJob.objects.filter(requested_by=request.user, finished_at__gt=since)
    jobs = list(finished.select_related("requested_by").order_by("-finished_at")[:AWAY_SHOWN])
    if not jobs:
        return HttpResponse(status=204)
    lines = [(job, _outcome_text(job, explain_job(job))) for job in describe_jobs(jobs)]
    context = {"away_lines": lines, "away_more": max(0, finished.count() - len(jobs))}
    response = TemplateResponse(request, "board/_jobs_panel.html#jobs-away", context)
    _seen_now(request.user)  # shown: the next sign-in starts after these
    return response


def _seen_now(user) -> None:
    """The user has seen their jobs up to now (an upsert of their board visit, unthrottled)."""
    BoardVisit.objects.bulk_create(
        [BoardVisit(user=user, seen_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["seen_at"],
    )


@require_GET
def job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """The polling partial: 286 (stop polling) once the job is terminal, and a jobFinished event."""
    roles.require_board(request.user)
    return _status_response(request, _get_job(job_id))


def _status_response(request: HttpRequest, job: AllocationJob) -> HttpResponse:
    explanation = explain_job(job)
    context = {"job": job, "explanation": explanation}
    if request.htmx and _on_job_page(request, job):
        # The observation after the move lands a few seconds after the job ends (presence.observe).
        context["watch_observation"] = observation_expected(job)
    response = TemplateResponse(request, "board/job.html#job-status", context)
    if job.is_terminal:
        if request.htmx and job.requested_by_id == request.user.pk:
            _seen_now(request.user)  # its end was on screen: not "while you were away" later
        response.status_code = HTMX_STOP_POLLING
        trigger_client_event(
            response,
            "jobFinished",
            {
                "id": job.pk,
                "status": job.status,
                "message": _outcome_text(job, explanation),
            },
        )
    return response


def _outcome_text(job: AllocationJob, explanation) -> str:
    what = words_of(job).phrase
    if job.status == AllocationJob.Status.SUCCEEDED:  # in the status's own words (models.py)
        label = job.get_status_display()
        return f"Job {job.pk} {label[:1].lower()}{label[1:]}: moved {what}."
    if job.status == AllocationJob.Status.CANCELLED:
        return f"Job {job.pk} was cancelled (moving {what})."
    why = explanation.headline if explanation else job.error_message
    return f"Job {job.pk} failed to move {what}: {why}"


@require_POST
def job_retry_view(request: HttpRequest, job_id: int) -> HttpResponse:
    # No role check here: the service refuses a role that may not move, and audits the refusal.
    roles.require_board(request.user)
    job = _get_job(job_id)
    try:
        retry = job_retry(
            job_id=job.pk, actor=request.user, request_id=getattr(request, "request_id", "")
        )
    except MoveRefused as exc:
        return _refused(request, job, exc)
    if not request.htmx:
        messages.success(request, f"Retrying as job {retry.pk}.")
        return redirect("job-detail", retry.pk)
    if _on_job_page(request, job):
        # The page is about the failed job: go to the new one rather than swap it in there.
        messages.success(request, f"Retrying job {job.pk} as job {retry.pk}.")
        return HttpResponseClientRedirect(reverse("job-detail", args=[retry.pk]))
    response = TemplateResponse(request, "board/job.html#job-status", {"job": retry})
    trigger_client_event(response, "jobSubmitted", {"id": retry.pk})
    return response


@require_POST
def job_cancel_view(request: HttpRequest, job_id: int) -> HttpResponse:
    roles.require_board(request.user)  # the service checks the role and audits a refusal
    job = _get_job(job_id)
    try:
        job = job_cancel(
            job_id=job.pk, actor=request.user, request_id=getattr(request, "request_id", "")
        )
    except MoveRefused as exc:
        return _refused(request, job, exc)
    if not request.htmx:
        messages.success(request, f"Job {job.pk} cancelled.")
        return redirect("job-detail", job.pk)
    return _status_response(request, _get_job(job.pk))


def _on_job_page(request: HttpRequest, job: AllocationJob) -> bool:
    current = urlsplit(request.htmx.current_url_abs_path or "").path
    return current == reverse("job-detail", args=[job.pk])


def _refused(request: HttpRequest, job: AllocationJob, exc: MoveRefused) -> HttpResponse:
    status = refusal_status(exc)
    if status == 403 and not request.htmx:
        raise PermissionDenied(exc.message)  # 403.html shows the message
    if not request.htmx:
        messages.error(request, exc.message)
        return redirect("job-detail", job.pk)
    context = {"job": job, "explanation": explain_job(job), "action_error": exc.message}
    return TemplateResponse(request, "board/job.html#job-status", context, status=status)
