"""A supervisor's browser reports what they are doing (heartbeat), or that they stopped.

The browser sends a report when the work starts and again every ``HEARTBEAT_SECONDS``; a row
not renewed within ``EXPIRES_SECONDS`` no longer shows, so a closed tab or a lost network fades
from every other board without anyone clearing it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from dashboard.activity.models import BoardActivity
from dashboard.core.params import BadParameter
from dashboard.directory.models import Campaign

HEARTBEAT_SECONDS = 2
EXPIRES_SECONDS = 6  # three heartbeats: one lost request does not make the line flicker
MAX_SOURCES = 50
_MAX_ID = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
Action = BoardActivity.Action


@dataclass(frozen=True)
class Report:
    action: str  # one of Action, or "" for "stopped"
    agent_count: int = 0
    target: str | None = None
    sources: tuple[str, ...] = ()


def _campaign_id(value: str, name: str) -> str:
    if len(value) > _MAX_ID or _CONTROL.search(value):
        raise BadParameter(name, f"a campaign id of at most {_MAX_ID} characters is expected")
    return value


def parse_report(data: Mapping) -> Report:
    """The report in a POST (a QueryDict): ``action`` (moving, dragging, selecting or stop),
    ``count`` (agents), ``target`` (campaign id, "" = Unassigned; not while dragging) and one
    ``source`` per column the agents come from. Unknown campaigns are refused here, by name."""
    action = data.get("action", "")
    if action == "stop":
        return Report("")
    if action not in Action.values:
        raise BadParameter("action", "must be moving, dragging, selecting or stop")
    count = data.get("count", "")
    if not count.isascii() or not count.isdigit() or not 1 <= int(count) <= 10**6:
        raise BadParameter("count", "must be the number of agents (a whole number from 1)")
    count = min(int(count), settings.ALLOCATION_MAX_AGENTS)
    sources = list(dict.fromkeys(data.getlist("source")))
    if len(sources) > MAX_SOURCES:
        raise BadParameter("source", f"at most {MAX_SOURCES} columns")
    sources = [_campaign_id(s, "source") for s in sources]
    target = None
    if action != Action.DRAGGING:
        if "target" not in data:
            raise BadParameter("target", "is required (a campaign id, empty for Unassigned)")
        target = _campaign_id(data["target"], "target")
    named = {c for c in [*sources, target] if c}
    known = set(Campaign.objects.filter(id__in=named).values_list("id", flat=True))
    if unknown := sorted(named - known):
        raise BadParameter(
            "target" if target in unknown else "source", f"unknown campaign {unknown[0]!r}"
        )
    return Report(action, count, target, tuple(sources))


def record(user, report: Report) -> None:
    """Store (or, for a stop, remove) the user's activity. One upsert: two workers answering the
    same user's heartbeats at once cannot collide on the primary key."""
    now = timezone.now()
    if not report.action:
        BoardActivity.objects.filter(user=user).delete()
        return
    row = BoardActivity(
        user=user,
        action=report.action,
        agent_count=report.agent_count,
        target=report.target,
        sources=list(report.sources),
        updated_at=now,
        expires_at=now + timedelta(seconds=EXPIRES_SECONDS),
    )
    BoardActivity.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["action", "agent_count", "target", "sources", "updated_at", "expires_at"],
    )
    # Rows whose tab went away stay until someone reports again; a minute on, nobody reads them.
    BoardActivity.objects.filter(expires_at__lt=now - timedelta(minutes=1)).delete()
