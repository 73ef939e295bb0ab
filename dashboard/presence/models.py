"""The listener's health row (one row, id 1): what it is doing and when it last proved alive."""

from django.db import models


class ListenerState(models.Model):
    class Status(models.TextChoices):
        STARTING = "starting", "Starting"
        LIVE = "live", "Live"
        RECONNECTING = "reconnecting", "Reconnecting"
        STOPPED = "stopped", "Stopped"

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.STARTING)
    since = models.DateTimeField(help_text="When the status last changed.")
    heartbeat_at = models.DateTimeField(help_text="Last time the listener proved alive.")
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    transport = models.CharField(max_length=10, blank=True)  # "sse" or "poll"
    agents = models.PositiveIntegerField(default=0)  # agents subscribed to
    events = models.PositiveBigIntegerField(default=0)  # messages handled since start
    reconnects = models.PositiveIntegerField(default=0)
    pid = models.PositiveIntegerField(default=0)
