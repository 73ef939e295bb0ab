"""What was observed after a move CIC accepted (issue 13 item 6): an ``observed`` audit row.

A 202 from allocate-agents means "accepted", not "applied" (REF 10), and ICWS offers no read of
another agent's campaign membership. What can be observed is what the listener keeps: each moved
agent's presence and whether they have a live CIC client (without one the move may not take).
``observe_recent_moves`` (a beat task every ``OBSERVE_EVERY_SECONDS``) looks once at each job that
succeeded between ``OBSERVE_WINDOW_SECONDS`` and ``OBSERVE_AFTER_SECONDS`` ago (the delay gives CIC
and the listener time to hear of it) and writes what it saw, or "nothing observable" with why when
the listener is down or stale. Bounded: at most ``MAX_JOBS_PER_RUN`` jobs per run, a fixed number
of queries per job, per-agent details capped at ``MAX_AGENTS_IN_DETAILS``; a job older than the
window is never observed (a late look would pass today's presence off as the move's).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Agent
from dashboard.presence.selectors import ListenerHealth, listener_health

log = logging.getLogger(__name__)

MAX_JOBS_PER_RUN = 50
MAX_AGENTS_IN_DETAILS = 500
NAMED = 5  # agents named in a message before "and N more"
# The audit row's actor: nobody (the dashboard looked; the supervisor did not act again).
SYSTEM = AnonymousUser()


def observe_recent_moves(now: dt.datetime | None = None) -> int:
    """Write the ``observed`` row of each job now due; the number of rows written."""
    now = now or timezone.now()
    oldest = now - dt.timedelta(seconds=settings.OBSERVE_WINDOW_SECONDS)
    newest = now - dt.timedelta(seconds=settings.OBSERVE_AFTER_SECONDS)
    due = list(
        AllocationJob.objects.filter(
            status=AllocationJob.Status.SUCCEEDED,
            updated_at__gte=oldest,  # indexed, and never before finished_at
            finished_at__gte=oldest,
            finished_at__lte=newest,
        )
        .exclude(audit_events__kind=AuditEvent.Kind.OBSERVED)
        .order_by("finished_at", "id")
        .values_list("id", flat=True)[:MAX_JOBS_PER_RUN]
    )
    if not due:
        return 0
    health = listener_health(now)
    written = 0
    for job_id in due:
        with transaction.atomic():
            # Two overlapping runs must not both observe a job: the second skips a locked one.
            job = (
                AllocationJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
            )
            if job is None or job.audit_events.filter(kind=AuditEvent.Kind.OBSERVED).exists():
                continue
            message, details = describe(job, health, now)
            audit_record(
                kind=AuditEvent.Kind.OBSERVED,
                actor=SYSTEM,
                job=job,
                reason="",
                details=details,
                message=message,
            )
            written += 1
    log.info("Observed %d move(s) after CIC accepted them", written)
    return written


def describe(job: AllocationJob, health: ListenerHealth, now: dt.datetime) -> tuple[str, dict]:
    """The message and details of one job's observation."""
    after = int((now - job.finished_at).total_seconds()) if job.finished_at else None
    details: dict = {"observed_after_seconds": after, "listener": health.status}
    if health.presence_stale:
        since = f" since {_clock(health.since)}" if health.since else ""
        details.update(observable=False, listener_since=_iso(health.since))
        return (
            f"Nothing observable after the move: the ICWS listener is down{since}, so presence "
            "and live CIC clients are not known.",
            details,
        )
    rows = {
        a["id"]: a
        for a in Agent.objects.filter(id__in=job.agent_ids).values(
            "id",
            "name",
            "status_id",
            "logged_in",
            "on_phone",
            "has_live_client",
            "presence_updated_at",
        )
    }
    seen = [rows[a] for a in job.agent_ids if a in rows]
    per_agent = {
        a["id"]: {
            "presence": _presence(a),
            "live_client": a["has_live_client"],
            "heard_since_move": bool(
                a["presence_updated_at"]
                and job.finished_at
                and a["presence_updated_at"] >= job.finished_at
            ),
        }
        for a in seen[:MAX_AGENTS_IN_DETAILS]
    }
    details.update(observable=True, agents=per_agent, agents_total=len(seen))
    if len(seen) == 1:
        a = seen[0]
        return (
            f"Presence of {a['name']} after the move: {_presence(a)}; "
            f"live CIC client: {_yes_no(a['has_live_client'])}.",
            details,
        )
    clients = Counter(_yes_no(a["has_live_client"]) for a in seen)
    presences = Counter(_presence(a) for a in seen)
    without = [a["name"] for a in seen if a["has_live_client"] is False]
    text = (
        f"After the move, {len(seen)} agents: live CIC client "
        + ", ".join(f"{word} {clients[word]}" for word in ("yes", "no", "unknown") if clients[word])
        + "; presence "
        + ", ".join(f"{word} {n}" for word, n in presences.most_common())
        + "."
    )
    if without:
        more = len(without) - NAMED
        text += f" No live client (the move may not take): {', '.join(without[:NAMED])}"
        text += f" and {more} more." if more > 0 else "."
    return text, details


def _presence(agent: dict) -> str:
    if not agent["logged_in"]:
        return "logged out"
    status = agent["status_id"] or "no status"
    return f"{status}, on a call" if agent["on_phone"] else status


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _clock(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%H:%M:%S %Z}"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
