"""Allocation jobs: one supervisor request to move agents, run in the background in batches."""

from collections.abc import Mapping

from django.conf import settings
from django.db import models
from django.utils import timezone


class AllocationJobQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # auto_now is skipped by QuerySet.update, yet the board's revision (and "changed since")
        # reads updated_at: every status change must move it.
        kwargs.setdefault("updated_at", timezone.now())
        return super().update(**kwargs)


class AllocationJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Retrying"
        # CIC answers a move with 202: accepted, not confirmed applied (explain.outcome_note).
        # The one wording users see for it: badges, job lines, toasts, the audit's outcomes.
        SUCCEEDED = "succeeded", "Accepted by CIC"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED})

    class ErrorKind(models.TextChoices):
        NONE = "", "None"
        ICWS = "icws", "ICWS error"
        CONFLICT = "conflict", "Roster changed since the move was prepared"
        RETRIES_EXHAUSTED = "retries", "Gave up after retries"
        INTERNAL = "internal", "Internal error"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="allocation_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    agent_ids = models.JSONField(default=list)
    campaign_ids_in = models.JSONField(default=list)
    campaign_ids_out = models.JSONField(default=list)
    reason = models.TextField(blank=True)
    # NULL, not "", for "no key": the unique constraint must ignore jobs without one.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # agent id -> Agent.roster_version the requester saw; a mismatch at run time is a conflict.
    expected_versions = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    revert_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reverts"
    )

    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    # A worker owns a running job until this time; the sweeper re-enqueues it afterwards.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The fencing token: raised each time a worker takes the job. A worker writes a batch's
    # outcome only while the token it took is still the job's (execute._fenced), so a worker
    # whose lease passed (and the job was taken over) cannot record results or move the roster.
    lease_token = models.PositiveBigIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)
    error_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_id = models.CharField(max_length=200, blank=True)
    error_code = models.BigIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    # What the failure was, as decided where the error was made: the exception's class name
    # (e.g. "IcwsUnsupportedFeature") and whether trying again later could succeed. The
    # explanation reads these instead of guessing from the HTTP status.
    error_class = models.CharField(max_length=100, blank=True)
    error_transient = models.BooleanField(default=False)

    objects = AllocationJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requested_by", "idempotency_key"],
                name="job_idempotency_key_per_user",
                condition=models.Q(idempotency_key__isnull=False),
            )
        ]
        indexes = [
            models.Index(fields=["status", "lease_expires_at"]),
            # The board's revision and the top bar's ICWS health read the latest change.
            models.Index(fields=["updated_at"], name="job_updated_at"),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def is_cancellable(self) -> bool:
        """Not yet sending: a queued job, or one waiting to retry (a running call cannot stop)."""
        return self.status in (self.Status.QUEUED, self.Status.RETRYING)

    def describe(self, campaign_names: Mapping[str, str] | None = None) -> str:
        """The move in words, for audit messages: "Move 3 agents into Sales ({C2}), out of
        Support ({C1})". An auditor reads names; the id stays beside each name because two
        campaigns can share one, and a campaign without a known name is shown by its id."""
        names = campaign_names or {}

        def named(ids: list[str]) -> str:
            return ", ".join(f"{names[c]} ({c})" if names.get(c) else c for c in ids)

        count = len(self.agent_ids)
        where = []
        if self.campaign_ids_in:
            where.append(f"into {named(self.campaign_ids_in)}")
        if self.campaign_ids_out:
            where.append(f"out of {named(self.campaign_ids_out)}")
        agents = "1 agent" if count == 1 else f"{count} agents"
        return f"Move {agents} " + ", ".join(where) if where else f"Move {agents}"


class JobBatch(models.Model):
    """One allocate-agents call for a slice of the job's agents."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        ACCEPTED = "accepted", "Accepted by CIC"  # the job's word for it (Status.SUCCEEDED)
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not sent"

    job = models.ForeignKey(AllocationJob, on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField()
    agent_ids = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_id = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="batch_job_index")]
