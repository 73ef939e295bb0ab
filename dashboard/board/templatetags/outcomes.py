"""``{% load outcomes %}``: a job's status words and what its outcome means (explain.py)."""

from __future__ import annotations

from django import template

from dashboard.allocations.explain import outcome_note

register = template.Library()


@register.filter
def status_words(job) -> str:
    """The status's label: worded once, on ``AllocationJob.Status`` ("Accepted by CIC" for a
    succeeded job: a 202 is not "applied"), so the panel, the job page and the list agree."""
    return job.get_status_display()


@register.filter
def job_outcome_note(job) -> str:
    return outcome_note(job) or ""
