"""What every page's top bar shows: the viewer's role and the health of the ICWS connection.

The health costs two queries and only a full page shows it: htmx partials (the one-second job
poll, the board refresh, the audit table) get the role alone, which their buttons need.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from dashboard.accounts import roles
from dashboard.allocations.models import AllocationJob
from dashboard.core.htmx import wants_partial
from dashboard.directory.models import SyncRun
from dashboard.presence.selectors import listener_health


def topbar(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    bar = _role(user) if wants_partial(request) else {**_role(user), **health()}
    return {"topbar": bar, "viewer_timezone": timezone.get_current_timezone_name()}


def _latest_job_trouble(since) -> str:
    """The error of the latest job to talk to ICWS, if ICWS failed it transiently (down,
    unreachable, overloaded) after ``since``; "" when that job went through."""
    jobs = AllocationJob.objects.filter(started_at__isnull=False)
    if since is not None:
        jobs = jobs.filter(updated_at__gt=since)
    latest = jobs.order_by("-updated_at").only("status", "error_kind", "error_message").first()
    if latest is None:
        return ""
    troubled = latest.status == AllocationJob.Status.RETRYING or (
        latest.error_kind == AllocationJob.ErrorKind.RETRIES_EXHAUSTED
    )
    return f"Latest move: {latest.error_message}" if troubled else ""


def _role(user) -> dict:
    user_roles = roles.roles_of(user)
    return {
        "role": roles.role_label(user),
        "is_admin": roles.ADMIN in user_roles,
        "can_view_board": roles.can_view_board(user),
        "can_view_audit": roles.can_view_audit(user),
        "can_move": roles.can_move_agents(user),
        "is_agent": roles.is_agent(user),
    }


def health() -> dict:
    """The top bar's ICWS health: the directory sync, the latest move, the presence listener.

    Full pages show it through ``topbar``; the board's one-second poll puts it in its revision
    and swaps it out of band, so it turns within a poll or two of a failure being recorded.
    """
    result = _sync_health()
    listener = listener_health()
    result["listener"] = listener.status
    result["listener_detail"] = listener.last_error
    if listener.status == "stale" and result["health"] in ("ok", "stale", "unknown"):
        result["health"], result["health_label"] = "down", "presence not live"
        result["health_detail"] = listener.last_error
    return result


def _sync_health() -> dict:
    last = SyncRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
    # Two missed syncs in a row means the directory is no longer current.
    stale_after = timedelta(seconds=max(60, 2 * settings.DIRECTORY_SYNC_INTERVAL_SECONDS))
    if last is None:
        health, label, detail = "unknown", "not synced yet", "No directory sync has finished yet"
    elif not last.ok:
        health, label, detail = "down", "unreachable", f"Last sync failed: {last.error}"
    elif timezone.now() - last.finished_at > stale_after:
        health, label, detail = "stale", "sync overdue", "The last successful sync is old"
    else:
        health, label, detail = (
            "ok",
            "connected",
            f"{last.agents} agents, {last.campaigns} campaigns",
        )
    # Moves reach ICWS between syncs: a newer move that ICWS did not answer says more.
    trouble = _latest_job_trouble(since=last.finished_at if last else None)
    if trouble and health in ("ok", "stale", "unknown"):
        health, label, detail = "down", "not answering", trouble
    return {
        "health": health,
        "health_label": label,
        "health_detail": detail,
        "last_sync": last.finished_at if last else None,
    }
