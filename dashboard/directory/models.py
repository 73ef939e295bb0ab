"""The dialer directory as the dashboard knows it: agents, campaigns and the roster.

Agents and campaigns are copies of ICWS configuration, refreshed by the sync task. The roster
(which agent is in which campaign) is the dashboard's own record: ICWS offers no call that reads
other agents' campaign membership (REFERENCE.md 3.4), so accepted allocations and imports write it.
"""

from django.db import models


class Workgroup(models.Model):
    id = models.CharField(primary_key=True, max_length=200)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    class State(models.TextChoices):
        ON = "on", "Running"
        OFF = "off", "Off"
        PAUSED = "paused", "Paused"
        SCHEDULE_ONLY = "schedule-only", "Schedule only"
        AUTO = "auto", "Automatic"
        COMPLETED = "completed", "Completed"
        UNKNOWN = "unknown", "Unknown"

    id = models.CharField(primary_key=True, max_length=200)  # ICWS campaign id, GUID-like
    name = models.CharField(max_length=200)
    state = models.CharField(max_length=20, choices=State.choices, default=State.UNKNOWN)
    workgroup = models.ForeignKey(
        Workgroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    active = models.BooleanField(default=True, help_text="Still listed by ICWS at the last sync.")
    synced_at = models.DateTimeField(null=True, blank=True)
    # Where state and workgroup came from: ICWS shows neither on a real server (REF 10), so
    # "" = nobody knows, "icws" = the server gave it, "admin" = recorded by an admin (the sync
    # never overwrites an admin's value).
    state_source = models.CharField(max_length=10, blank=True, default="")
    workgroup_source = models.CharField(max_length=10, blank=True, default="")
    state_note = models.CharField(max_length=500, blank=True, help_text="Recorded by an admin.")
    staffing_target = models.PositiveIntegerField(
        null=True, blank=True, help_text="Agents wanted; recorded by an admin."
    )
    # Who recorded the state (admin page or campaign facts import) and when, so a warning that
    # rests on it can say whose word it is.
    state_recorded_by = models.CharField(max_length=150, blank=True)
    state_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def state_known(self) -> bool:
        return self.state != self.State.UNKNOWN and bool(self.state_source)

    @property
    def accepts_calls(self) -> bool:
        return self.state in (self.State.ON, self.State.AUTO)


class Agent(models.Model):
    id = models.CharField(primary_key=True, max_length=200)  # ICWS user id
    name = models.CharField(max_length=200)
    extension = models.CharField(max_length=50, blank=True)
    workgroups = models.ManyToManyField(Workgroup, related_name="agents", blank=True)
    status_id = models.CharField(max_length=100, blank=True)
    logged_in = models.BooleanField(default=False)
    on_phone = models.BooleanField(default=False)
    status_changed = models.DateTimeField(null=True, blank=True)
    # Written by the ICWS listener (dashboard.presence): when presence was last heard, and whether
    # the agent has a CIC client logged in (sessions-users), without which a move may not take.
    presence_updated_at = models.DateTimeField(null=True, blank=True)
    has_live_client = models.BooleanField(null=True, blank=True)  # None: not heard yet
    client_updated_at = models.DateTimeField(null=True, blank=True)
    # securityRights.loginCampaign on the CIC user (REF 10): a supervisor's move may not take.
    # None: not read (the directory sync fills it where the server gives it).
    has_logon_campaign_right = models.BooleanField(null=True, blank=True)
    logon_right_read_at = models.DateTimeField(null=True, blank=True)  # last answer from CIC
    active = models.BooleanField(default=True, help_text="Still listed by ICWS at the last sync.")
    synced_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every roster change of this agent: a move built on an older version is stale.
    roster_version = models.PositiveIntegerField(default=0)
    # The job that holds this agent while its ICWS call is in flight (see allocations.execute).
    held_by_job = models.ForeignKey(
        "allocations.AllocationJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class RosterEntry(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="roster")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="roster")
    since = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=20, default="allocation")  # allocation, import, demo

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "campaign"], name="roster_agent_campaign")
        ]
        indexes = [models.Index(fields=["campaign", "agent"])]


class SyncRun(models.Model):
    """One directory sync: when, and whether it worked (the top bar shows the last one)."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    agents = models.PositiveIntegerField(default=0)
    campaigns = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)  # ICWS rows refused by validation
    # The Logon Campaign right is read per agent after the sync proper (directory/rights.py);
    # how many answers came, and why reading stopped, never fail the sync.
    rights_read = models.PositiveIntegerField(default=0)
    rights_error = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
