"""``{% load outcomes %}``: a job's status words and what its outcome means (explain.py)."""

from __future__ import annotations

from django import template

from dashboard.allocations.explain import ACCEPTED_LABEL, outcome_note

register = template.Library()


@register.filter
def status_words(job) -> str:
    """ "Accepted by CIC" for a succeeded job (a 202 is not "applied"), else the status label."""
    if job.status == job.Status.SUCCEEDED:
        return ACCEPTED_LABEL
    return job.get_status_display()


@register.filter
def job_outcome_note(job) -> str:
    return outcome_note(job) or ""
