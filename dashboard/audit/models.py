"""The append-only audit log. Rows are written only by ``audit.services.audit_record``.

Tamper evidence: every row has a sequence number and a SHA-256 over its content and the previous
row's hash (``audit.chain``), so a row changed or removed directly in the database breaks the
chain at that row; ``manage.py verify_audit`` names it. Writers do not link rows: they insert
them unchained (seq null) with a signed seal, and the chainer (``audit.chainer``) links them in
batches under the ``AuditChainHead`` lock, so the chain has one order and no writer waits for
another's hash.
"""

from django.conf import settings
from django.db import models

from dashboard.audit import search


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
        SUCCEEDED = "succeeded", "Move accepted by CIC"
        FAILED = "failed", "Move failed"
        CANCELLED = "cancelled", "Move cancelled"
        ROSTER_IMPORT = "roster_import", "Roster imported"
        ARCHIVED = "archived", "Older entries archived"
        # What was seen on CIC after a move was accepted (presence, live client): issue 13.
        OBSERVED = "observed", "Observed after move"
        # Shift plans (issue 18): a plan's life and each run it starts.
        PLAN_CREATED = "plan_created", "Plan created"
        PLAN_CHANGED = "plan_changed", "Plan changed"
        PLAN_PAUSED = "plan_paused", "Plan paused"
        PLAN_RESUMED = "plan_resumed", "Plan resumed"
        PLAN_DELETED = "plan_deleted", "Plan deleted"
        PLAN_RUN = "plan_run", "Plan run"
        # Four-eyes approval (issue 18).
        APPROVAL_REQUESTED = "approval_requested", "Approval requested"
        APPROVAL_GRANTED = "approval_granted", "Move approved"
        APPROVAL_REJECTED = "approval_rejected", "Move rejected"
        APPROVAL_EXPIRED = "approval_expired", "Approval expired"
        # Sign-in with CIC and the agent's side of a move (issue 19).
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_REFUSED = "sign_in_refused", "Sign-in refused"
        ROLE_CHANGED = "role_changed", "Roles changed"
        READY_FOR_CALLS = "ready_for_calls", "Ready for calls sent"

    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    # PROTECT, not SET_NULL: deleting a user would otherwise rewrite their audit rows (and
    # break the chain). Deactivate accounts instead.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
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
    details = models.JSONField(default=dict, blank=True)  # e.g. what an archive event pruned
    # What people know (``audit.search``): id -> name as it was when the row was written (null
    # on rows written before names were kept), and the same words folded for the filters.
    # Not hashed: a display and search aid, the ids are the evidence.
    agent_names = models.JSONField(null=True, blank=True)
    campaign_names = models.JSONField(null=True, blank=True)
    actor_search = models.CharField(max_length=150, blank=True, db_default="")
    agent_search = models.TextField(blank=True, db_default="")
    campaign_search = models.TextField(blank=True, db_default="")
    search_text = models.TextField(blank=True, db_default="")

    # Null, with prev_hash and hash empty, until the chainer links the row.
    seq = models.BigIntegerField(unique=True, null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)
    # HMAC of the row's id and content (``chain.seal_message``), written with the row: the
    # chainer links only rows whose seal verifies, and verify checks it after the checkpoint.
    seal = models.CharField(max_length=64, blank=True, db_default="")
    # The hash format this row was written in (``audit.chain``); older rows keep theirs.
    hash_version = models.PositiveSmallIntegerField(default=1)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["kind", "id"], name="audit_kind_id"),
            models.Index(fields=["actor_username", "id"], name="audit_actor_id"),
            models.Index(fields=["job", "id"], name="audit_job_id"),
            # The chainer's queue: the few rows not yet linked, in id order.
            models.Index(
                fields=["id"], name="audit_unchained", condition=models.Q(seq__isnull=True)
            ),
            # Where the rows of older hash formats end (verify hashes the rest in PostgreSQL):
            # empty on a database created with format 4, small on an upgraded one.
            models.Index(
                fields=["seq"], name="audit_old_format", condition=models.Q(hash_version__lt=4)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} by {self.actor_username or 'system'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only; they cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only; they cannot be deleted")

    @property
    def headline(self) -> str:
        return search.headline(self)

    @property
    def details_items(self) -> list[tuple[str, str]]:
        return search.details_items(self.details)

    @property
    def agents_named(self) -> list[tuple[str, str]]:
        return search.named(self.agent_ids, self.agent_names)

    @property
    def ins_named(self) -> list[tuple[str, str]]:
        return search.named(self.campaign_ids_in, self.campaign_names)

    @property
    def outs_named(self) -> list[tuple[str, str]]:
        return search.named(self.campaign_ids_out, self.campaign_names)


class AuditWord(models.Model):
    """Every word (space-separated token) of a folded search column, once per column
    (``audit.search.WORD_COLUMNS``): the filters' vocabulary on PostgreSQL.

    A typed text is found by the words that contain it, then by the rows holding one of those
    words (a GIN index over each column's word array, migration 0008), then checked by
    substring as before. A trigger adds the words of every inserted row, so no writer has to.
    Derived from hashed columns only; ``audit.search.missing_words`` finds a vocabulary that
    lost words (which would hide rows from the filters) and ``rebuild_words`` restores it.
    """

    column = models.CharField(max_length=20)
    word = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["column", "word"], name="audit_word_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.column}: {self.word}"


class AuditChainHead(models.Model):
    """One row: the last appended seq and hash. Appending locks it (``select_for_update``).

    ``checkpoint_seq`` and ``checkpoint_at`` say when the last signed checkpoint was taken, so
    the writer knows when the next one is due without another query.
    """

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)
    checkpoint_seq = models.BigIntegerField(default=0)
    checkpoint_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Audit chain at {self.seq}"


class AuditCheckpoint(models.Model):
    """A signed statement "the chain's row ``seq`` has hash ``hash``" (``audit.checkpoints``).

    The same line also goes to an append-only file outside the database; ``verify_audit``
    trusts the file first, since whoever can rewrite these rows can delete them too. The HMAC
    key is not in the database, so a checkpoint cannot be forged from it.
    """

    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    hmac = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["seq"], name="audit_checkpoint_seq")]

    def __str__(self) -> str:
        return f"Audit checkpoint at seq {self.seq}"
