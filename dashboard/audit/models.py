"""The append-only audit log. Rows are written only by ``audit.services.audit_record``."""

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    """No bulk update or delete: the ORM has no path that changes a written row."""

    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only; they cannot be changed")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only; they cannot be deleted")


class AuditEvent(models.Model):
    class Kind(models.TextChoices):
        REQUESTED = "requested", "Move requested"
        REFUSED = "refused", "Move refused"
        STARTED = "started", "Move started"
        RETRY = "retry", "Retry scheduled"
        SUCCEEDED = "succeeded", "Move succeeded"
        FAILED = "failed", "Move failed"
        CANCELLED = "cancelled", "Move cancelled"
        ROSTER_IMPORT = "roster_import", "Roster imported"

    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text too, so the row still names the actor if the account is deleted.
    actor_username = models.CharField(max_length=150, blank=True)
    job = models.ForeignKey(
        "allocations.AllocationJob",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    agent_ids = models.JSONField(default=list)
    campaign_ids_in = models.JSONField(default=list)
    campaign_ids_out = models.JSONField(default=list)
    reason = models.TextField(blank=True)
    roster_before = models.JSONField(default=dict, blank=True)
    roster_after = models.JSONField(default=dict, blank=True)
    icws_status = models.PositiveSmallIntegerField(null=True, blank=True)
    icws_error_id = models.CharField(max_length=200, blank=True)
    icws_message = models.TextField(blank=True)
    message = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} by {self.actor_username or 'system'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only; they cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only; they cannot be deleted")
