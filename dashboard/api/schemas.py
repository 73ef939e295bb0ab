"""Request and response bodies of the JSON API (they are the OpenAPI schema too).

Views return models; the output schemas read their fields, and ``resolve_*`` says where a field's
name or shape differs from the model's (one place, not a hand-copied dict per view).
"""

from __future__ import annotations

from datetime import datetime

from django.urls import get_script_prefix, get_urlconf, reverse
from ninja import Schema
from pydantic import ConfigDict, Field, StrictInt


class Strict(Schema):
    # An unknown field is a typo the caller needs to hear about, not something to drop.
    model_config = ConfigDict(extra="forbid")


class AllocationIn(Strict):
    agent_ids: list[str] = Field(..., description="ICWS user ids of the agents to move.")
    campaign_ids_in: list[str] = Field(default_factory=list, description="Campaigns to join.")
    campaign_ids_out: list[str] = Field(default_factory=list, description="Campaigns to leave.")
    reason: str = Field("", description="Why; shown in the audit log. At most 500 characters.")
    reason_code: str = Field(
        "", description="One of the admin's reason codes; required for some moves (a 400 says so)."
    )
    # StrictInt: JSON true is not version 1 (pydantic would otherwise take a bool as an int).
    expected_versions: dict[str, StrictInt] | None = Field(
        None,
        description="agent id -> roster_version the caller saw (GET /api/agents). When given, "
        "a move whose agents changed since is refused (409) instead of applied.",
    )


class JobRef(Schema):
    id: int
    status: str
    url: str


class BatchOut(Schema):
    index: int
    agent_ids: list[str]
    status: str
    attempts: int
    error_status: int | None
    error_id: str
    error_message: str


class JobOut(Schema):
    id: int
    url: str
    status: str
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    agent_ids: list[str]
    campaign_ids_in: list[str]
    campaign_ids_out: list[str]
    reason: str
    attempts: int
    revert_of: int | None
    error_kind: str
    error_status: int | None
    error_id: str
    error_message: str
    batches: list[BatchOut]

    @staticmethod
    def resolve_url(job) -> str:
        return job_url(job.pk)

    @staticmethod
    def resolve_requested_by(job) -> str:
        return job.requested_by.get_username()

    @staticmethod
    def resolve_revert_of(job) -> int | None:
        return job.revert_of_id

    @staticmethod
    def resolve_batches(job) -> list:
        return list(job.batches.all())  # prefetched by the views


class JobPage(Schema):
    items: list[JobOut]
    next: str | None


class AgentOut(Schema):
    id: str
    name: str
    extension: str
    workgroup_ids: list[str]
    status_id: str
    presence: str
    logged_in: bool
    on_phone: bool
    campaign_ids: list[str]
    roster_version: int
    pending_job: int | None


class CampaignOut(Schema):
    id: str
    name: str
    state: str
    accepts_calls: bool
    workgroup_id: str | None
    headcount: int
    agent_ids: list[str]


class AuditEventOut(Schema):
    id: int
    at: datetime
    kind: str
    actor: str
    job: int | None
    agent_ids: list[str]
    campaign_ids_in: list[str]
    campaign_ids_out: list[str]
    reason: str
    roster_before: dict[str, list[str]]
    roster_after: dict[str, list[str]]
    icws_status: int | None
    icws_error_id: str
    icws_message: str
    message: str
    request_id: str
    duration_ms: int | None
    # Names as they were when the event was written (issue 16); {} on older rows.
    agent_names: dict[str, str]
    campaign_names: dict[str, str]
    headline: str

    @staticmethod
    def resolve_actor(event) -> str:
        return event.actor_username

    @staticmethod
    def resolve_agent_names(event) -> dict[str, str]:
        return event.agent_names or {}

    @staticmethod
    def resolve_campaign_names(event) -> dict[str, str]:
        return event.campaign_names or {}

    @staticmethod
    def resolve_job(event) -> int | None:
        return event.job_id


class AuditPage(Schema):
    items: list[AuditEventOut]
    next: str | None


class ErrorOut(Schema):
    detail: str
    errors: dict[str, str] = Field(default_factory=dict)


_JOB_URL_MARK = 987654321
_JOB_URLS: dict[tuple, tuple[str, str]] = {}


def job_url(pk: int) -> str:
    """``reverse("api:allocation_detail", args=[pk])``, reversed once per script prefix and
    URLconf: reversing walked the API's patterns on every POST (about 1% of its CPU)."""
    key = (get_script_prefix(), get_urlconf())
    parts = _JOB_URLS.get(key)
    if parts is None:
        head, _, tail = reverse("api:allocation_detail", args=[_JOB_URL_MARK]).partition(
            str(_JOB_URL_MARK)
        )
        parts = _JOB_URLS.setdefault(key, (head, tail))
    return f"{parts[0]}{int(pk)}{parts[1]}"
