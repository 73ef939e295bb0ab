"""``{% load job_words %}``: who a job moves where, and the job that retried it (job_words.py)."""

from __future__ import annotations

from django import template

from dashboard.board.job_words import summary, words_of

register = template.Library()


@register.filter
def job_summary(job) -> str:
    return summary(job)


@register.filter
def retried_as(job) -> int | None:
    return words_of(job).retried_as
