"""What a move asks of the agent it added to a campaign: to send ``ready-for-calls``.

The seeds say "any time an agent is manually or automatically logged in to an additional
campaign, ready-for-calls must be called again" (REF 3.1). One row per agent and move that added
campaigns, made when ICWS accepted that agent's batch (``signals.py``); the agent's page sends the
call and stamps ``sent_at``. Until then the supervisor's board shows the agent waiting.
"""

from django.conf import settings
from django.db import models


class ReadyForCalls(models.Model):
    # No index of its own (nor its varchar_pattern_ops twin): the unique (agent, job) and the
    # (agent, sent_at) index both start with it, and a move into a campaign writes one row per
    # agent, 5,000 in a 5,000-agent move, each row's every index written in its outcome.
    agent = models.ForeignKey(
        "directory.Agent",
        on_delete=models.CASCADE,
        related_name="ready_for_calls",
        db_index=False,
    )
    job = models.ForeignKey(
        "allocations.AllocationJob", on_delete=models.CASCADE, related_name="ready_for_calls"
    )
    campaign_ids = models.JSONField(default=list)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    moved_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The last attempt's answer in words (an error), shown on the agent's page; "" after a 200.
    last_error = models.CharField(max_length=500, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "job"], name="ready_for_calls_agent_job")
        ]
        indexes = [models.Index(fields=["agent", "sent_at"])]

    def __str__(self) -> str:
        return f"Ready-for-calls of {self.agent_id} after job {self.job_id}"
