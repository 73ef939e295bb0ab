from django.conf import settings
from django.db import models


class BoardActivity(models.Model):
    """One supervisor's current work on the board (a confirmation open, a drag, an aimed
    selection), kept alive by their browser's heartbeat; past ``expires_at`` it is gone."""

    class Action(models.TextChoices):
        MOVING = "moving", "has a move confirmation open"
        DRAGGING = "dragging", "is dragging cards"
        SELECTING = "selecting", "has a selection aimed at a campaign"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    agent_count = models.PositiveIntegerField()
    # Campaign ids; "" is the Unassigned column. target is None while dragging (no drop yet).
    target = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    sources = models.JSONField(default=list)
    updated_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.user} {self.action} {self.agent_count}"


class BoardVisit(models.Model):
    """When the supervisor last had a board open (its poll), so that after a sign-in the board
    can say which of their jobs finished while they were away."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True
    )
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} {self.seen_at}"
