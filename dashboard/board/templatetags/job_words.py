"""``{% load job_words %}``: who a job moves where, and the job that retried it (job_words.py)."""

from __future__ import annotations

from django import template

from dashboard.board.job_words import describe_jobs, summary, words_of

register = template.Library()


@register.filter
def job_summary(job) -> str:
    return summary(job)


@register.filter
def retried_as(job) -> int | None:
    return words_of(job).retried_as


@register.simple_tag
def describe(jobs_and_explanations) -> str:
    """``{% describe recent_jobs %}`` before a loop over (job, explanation) pairs: the words of
    all of them in three queries, instead of up to three per job as the filters would."""
    describe_jobs(job for job, _ in jobs_and_explanations)
    return ""
