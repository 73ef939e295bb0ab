"""Presence writes: each ICWS message becomes one UPDATE of ``directory.Agent`` (bulk, by id)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, Value, When
from django.utils import timezone

from dashboard.directory.models import Agent
from icws_client.models import UserStatus

PRESENCE_FIELDS = ["status_id", "logged_in", "on_phone", "status_changed", "presence_updated_at"]


def apply_statuses(statuses: Iterable[UserStatus]) -> int:
    """Write the statuses of known agents (one bulk UPDATE); the number of agents written."""
    latest = {s.user_id: s for s in statuses}
    if not latest:
        return 0
    now = timezone.now()
    agents = list(Agent.objects.filter(id__in=latest).only("id"))
    for agent in agents:
        status = latest[agent.id]
        agent.status_id = status.status_id[:100]
        agent.logged_in = status.logged_in
        agent.on_phone = status.on_phone
        agent.status_changed = status.status_changed
        agent.presence_updated_at = now
    Agent.objects.bulk_update(agents, PRESENCE_FIELDS, batch_size=1000)
    return len(agents)


def apply_clients(live: Iterable[str], gone: Iterable[str]) -> int:
    """``has_live_client`` true for ``live`` agents and false for ``gone`` ones, one UPDATE."""
    live, gone = set(live), set(gone) - set(live)
    if not live and not gone:
        return 0
    return Agent.objects.filter(id__in=live | gone).update(
        has_live_client=Case(When(id__in=live, then=Value(True)), default=Value(False)),
        client_updated_at=timezone.now(),
    )
