"""A job in words: who it moves where ("Moved Ana Silva, Bo Li from Sales to Renewals") and, for a
failed job that was retried, the job that retried it.

An agent whose name another agent of the directory shares is named with their id ("Ada Ivanova
(u17), Ada Ivanova (u42)"): two same-named people in one entry, or one whose namesake is on the
board, must be told apart (``agent_labels``). A move that leaves no campaign is "from
Unassigned", one that enters none "to Unassigned", as the board's columns say (``UNASSIGNED``).

``describe_jobs`` does it for a page of jobs in three queries whatever their number (agent
names, campaign names, retries); the template filters call it for one job where a page did not.
A retry is found by the idempotency key ``allocations.submit.job_retry`` gives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import Agent
from dashboard.directory.selectors import campaign_names

SHOWN_AGENTS = 3
UNASSIGNED = "Unassigned"  # the board's column for agents in no campaign
RETRY_KEY = "retry-of-{}"
Status = AllocationJob.Status
VERBS = {
    Status.SUCCEEDED: "Moved",
    Status.FAILED: "Failed to move",
    Status.CANCELLED: "Cancelled: move",
}


@dataclass(frozen=True)
class JobWords:
    phrase: str  # "Ana Silva, Bo Li from Sales to Renewals"
    retried_as: int | None  # the job that retried this failed one


def describe_jobs(jobs: Iterable[AllocationJob]) -> list[AllocationJob]:
    """Attach ``job.words`` (a ``JobWords``) to each job; returns them as a list."""
    jobs = list(jobs)
    if not jobs:
        return jobs
    wanted = {a for job in jobs for a in job.agent_ids[:SHOWN_AGENTS]}
    names = agent_labels(wanted)
    campaigns = campaign_names(
        {c for job in jobs for c in job.campaign_ids_in + job.campaign_ids_out}
    )
    failed = {RETRY_KEY.format(job.pk): job.pk for job in jobs if job.status == Status.FAILED}
    retries: dict[int, int] = {}
    if failed:
        found = AllocationJob.objects.filter(idempotency_key__in=failed).order_by("-pk")
        for pk, key in found.values_list("pk", "idempotency_key"):
            retries[failed[key]] = pk  # the first retry wins: newest first, overwritten
    for job in jobs:
        job.words = JobWords(_phrase(job, names, campaigns), retries.get(job.pk))
    return jobs


def summary(job: AllocationJob) -> str:
    """The job's line: "Moved Ana Silva, Bo Li from Sales to Renewals" (the verb by status)."""
    return f"{VERBS.get(job.status, 'Moving')} {words_of(job).phrase}"


def words_of(job: AllocationJob) -> JobWords:
    if not hasattr(job, "words"):
        describe_jobs([job])
    return job.words


def agent_labels(ids: Iterable[str]) -> dict[str, str]:
    """agent id -> the name to show: the name, with the id after it when another agent (active
    or not) has the same name. One query; an unknown id is missing (callers show the id)."""
    namesake = Agent.objects.filter(name=OuterRef("name")).exclude(id=OuterRef("id"))
    rows = (
        Agent.objects.filter(id__in=list(ids))
        .annotate(shared=Exists(namesake))
        .values_list("id", "name", "shared")
    )
    return {a: f"{name} ({a})" if shared else name for a, name, shared in rows}


def agents_text(names: list[str], total: int) -> str:
    more = total - len(names)
    shown = ", ".join(names)
    return f"{shown} and {more} more" if more > 0 else shown


def _phrase(job: AllocationJob, names: dict[str, str], campaigns: dict[str, str]) -> str:
    shown = [names.get(a, a) for a in job.agent_ids[:SHOWN_AGENTS]]
    who = agents_text(shown, len(job.agent_ids)) or "no agents"
    into = ", ".join(campaigns.get(c, c) for c in job.campaign_ids_in) or UNASSIGNED
    out = ", ".join(campaigns.get(c, c) for c in job.campaign_ids_out) or UNASSIGNED
    return f"{who} from {out} to {into}"
