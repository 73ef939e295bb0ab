"""A plan and its runs.

Times are stored as the supervisor typed them: a local wall time (date and time, no offset) and
the IANA zone they belong to. The instant of each run is computed from those with ``zoneinfo``
(``schedule``), so "17:00 on weekdays in Europe/Berlin" stays 17:00 local across DST changes. A
run's ``scheduled_at`` is that instant in UTC; it is unique per plan, which is what makes a run
happen once however many beats tick or restart.
"""

from django.conf import settings
from django.db import models


class Plan(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        AWAITING = "awaiting", "Waiting for approval"
        REJECTED = "rejected", "Not approved"
        PAUSED = "paused", "Paused"
        DELETED = "deleted", "Deleted"

    class Repeat(models.TextChoices):
        ONCE = "once", "Once"
        WEEKDAYS = "weekdays", "On weekdays"
        DAYS = "days", "On specific days"

    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plans"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )

    # Who: explicit agent ids, or every agent of a workgroup at run time (exactly one of them).
    agent_ids = models.JSONField(default=list, blank=True)
    workgroup = models.ForeignKey(
        "directory.Workgroup", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    campaign_ids_in = models.JSONField(default=list, blank=True)
    campaign_ids_out = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    # When, as local wall time in ``time_zone``.
    time_zone = models.CharField(max_length=64)
    start_date = models.DateField()
    start_time = models.TimeField()
    # The end, as the number of days after the run's start date and a wall time on that day
    # (0 and 19:00: same evening; 1 and 06:00: an overnight shift). None: no revert.
    end_time = models.TimeField(null=True, blank=True)
    end_day_offset = models.PositiveSmallIntegerField(default=0)
    repeat = models.CharField(max_length=10, choices=Repeat.choices, default=Repeat.ONCE)
    weekdays = models.JSONField(default=list, blank=True)  # 0 = Monday .. 6 = Sunday
    days = models.JSONField(default=list, blank=True)  # ISO dates, for Repeat.DAYS
    until = models.DateField(null=True, blank=True)  # last local date a recurring plan runs

    # Occurrences before this instant are never claimed: set on create, edit and resume, so an
    # edit applies from the next run and a resumed plan does not catch up on what it skipped.
    runs_from = models.DateTimeField()
    # NULL, not "", for "no key" (as AllocationJob.idempotency_key).
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    revision = models.PositiveIntegerField(default=1)
    # The four-eyes approval this revision asked for (``approval``); its runs are submitted under
    # it once granted, so the move's gate does not ask again at run time.
    approval = models.ForeignKey(
        "approvals.Approval", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                name="plan_idempotency_key_per_user",
                condition=models.Q(idempotency_key__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deleted(self) -> bool:
        return self.status == self.Status.DELETED


class PlanRun(models.Model):
    class Status(models.TextChoices):
        CLAIMED = "claimed", "Starting"
        MOVED = "moved", "Moved"  # the start job is queued (or done); a revert may be due
        REVERTING = "reverting", "Reverting"
        DONE = "done", "Done"
        NOTHING = "nothing", "Nothing to move"
        REFUSED = "refused", "Refused"
        MISSED = "missed", "Missed"

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="runs")
    scheduled_at = models.DateTimeField()  # the start instant (UTC)
    revert_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)
    plan_revision = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CLAIMED)
    job = models.ForeignKey(
        "allocations.AllocationJob",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plan_runs",
    )
    revert_jobs = models.ManyToManyField(
        "allocations.AllocationJob", blank=True, related_name="plan_reverts"
    )
    # agent id -> why it was left out (held by a job, moved since, nothing to do).
    skipped = models.JSONField(default=dict, blank=True)
    revert_left_alone = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "scheduled_at"], name="plan_run_once")
        ]
        indexes = [models.Index(fields=["status", "revert_at"], name="plan_run_revert_due")]

    def __str__(self) -> str:
        return f"Run of {self.plan} at {self.scheduled_at:%Y-%m-%d %H:%M} UTC ({self.status})"
