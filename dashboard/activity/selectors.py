"""Reads: other supervisors' live activity in words, per board column; a user's last visit."""

from __future__ import annotations

from django.utils import timezone

from dashboard.activity.models import BoardActivity, BoardVisit
from dashboard.directory.models import Campaign

Action = BoardActivity.Action


def display_name(user) -> str:
    """The name people know a supervisor by: the full name where one is set, else the login."""
    return user.get_full_name().strip() or user.get_username()


def _agents(count: int) -> str:
    return f"{count} agent{'s' if count != 1 else ''}"


def activity_by_column(*, exclude_user) -> dict[str, list[str]]:
    """Campaign id ("" = Unassigned) -> what others are doing with its agents, one line each.

    One query when nobody is working on the board, two otherwise (the campaigns' names). The
    lines are plain text: the board puts them in with ``textContent``, never as markup.
    """
    rows = list(
        BoardActivity.objects.filter(expires_at__gt=timezone.now())
        .exclude(user=exclude_user)
        .select_related("user")
        .order_by("updated_at")
    )
    if not rows:
        return {}
    ids = {c for row in rows for c in [*row.sources, row.target or ""] if c}
    names = dict(Campaign.objects.filter(id__in=ids).values_list("id", "name"))
    columns: dict[str, list[str]] = {}
    for row in rows:
        who = display_name(row.user)
        where = "Unassigned" if row.target == "" else names.get(row.target or "", row.target)
        agents = _agents(row.agent_count)
        if row.action == Action.MOVING:
            line = f"{who} is moving {agents} to {where}"
        elif row.action == Action.SELECTING:
            line = f"{who} has {agents} selected for {where}"
        else:
            line = f"{who} is dragging {agents}"
        touched = [*row.sources, *([row.target] if row.target is not None else [])]
        for column in dict.fromkeys(touched):
            columns.setdefault(column, []).append(line)
    return columns


def last_visit(user):
    """When the user last had a board open, or None."""
    return BoardVisit.objects.filter(user=user).values_list("seen_at", flat=True).first()
