"""A move or plan waiting for a second person, and the reason codes an admin manages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReasonCode(models.Model):
    """An admin-managed reason for a move ("Sickness cover", "Campaign launch"). When any active
    code exists the move dialog offers them; ``APPROVAL_REASON_CODE_FOR`` says which moves must
    carry one. Codes are retired (``active`` off), not deleted: audit rows name them."""

    code = models.CharField(max_length=40, unique=True)
    label = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "label"]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"


class Approval(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Kind(models.TextChoices):
        MOVE = "move", "Move"
        PLAN = "plan", "Plan"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MOVE)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals_requested"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(db_index=True)

    agent_ids = models.JSONField(default=list)
    campaign_ids_in = models.JSONField(default=list)
    campaign_ids_out = models.JSONField(default=list)
    reason = models.TextField(blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    # What made it need approval, as the gate said it: ["large", "out_of_scope"], and in words.
    needs = models.JSONField(default=list)
    needs_text = models.TextField(blank=True)
    # agent id -> roster version the requester saw; the approval's re-preview compares to these.
    expected_versions = models.JSONField(default=dict, blank=True)
    # Headcount per campaign and each agent's campaigns when requested (review.snapshot).
    snapshot = models.JSONField(default=dict, blank=True)
    # NULL, not "", for "no key" (the unique constraint ignores NULLs).
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    request_id = models.CharField(max_length=64, blank=True)
    # A plan's approval names its plan by id (the plans app reads approvals, not the other way).
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)

    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approvals_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    job = models.ForeignKey(
        "allocations.AllocationJob",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approvals",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requested_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="approval_idempotency_key_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"Approval {self.pk}: {self.summary or self.get_kind_display()}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
