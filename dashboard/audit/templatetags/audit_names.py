"""The audit row's name cells, built in Python: three template loops per row cost more than the
page's queries at 50 rows (bench/audit_page.py)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

register = template.Library()
SHOWN_AGENTS = 3


@register.filter
def agents_cell(event) -> str:
    """``2: Emma Ortiz (a1), a2`` — the count, then up to three names with their ids."""
    pairs = event.agents_named
    if not pairs:
        return "0"
    shown = format_html_join(
        ", ",
        "{}",
        (
            (format_html('<span title="{}">{}</span> <span class="muted">({})</span>', i, n, i)
             if n else i,)
            for i, n in pairs[:SHOWN_AGENTS]
        ),
    )  # fmt: skip
    more = "…" if len(pairs) > SHOWN_AGENTS else ""
    return format_html("{}: {}{}", len(pairs), shown, more)


@register.filter
def campaigns_cell(pairs) -> str:
    """``Spring Upsell, {C9}`` (each with its id as a tooltip), or an em dash for none."""
    if not pairs:
        return "—"
    return format_html_join(", ", '<span title="{}">{}</span>', ((i, n or i) for i, n in pairs))


@register.simple_tag
def audit_steps(move) -> str:
    """A move's steps (``selectors.Move``), oldest first, as the list under its row: each links
    to its entry; the steps the filter matched other than the row's own keep ``data-audit-id``
    (so a filter on a retry or an ICWS message says which step matched). Built in Python like
    the name cells: a template loop over every step of 50 moves cost more than the queries."""
    detail = reverse("audit-detail", args=[0])[:-2]  # ".../audit/0/" -> ".../audit/"
    lead, others = move.lead.pk, move.other_matched_ids
    items = []
    for step in move.steps:
        local = timezone.localtime(step.at)
        marks = ""
        if step.pk in others:
            marks = format_html(' data-audit-id="{}" data-audit-matched', step.pk)
        elif step.pk == lead:
            marks = mark_safe(" data-audit-matched")
        icws = ""
        if step.icws_status or step.icws_message:
            status = f" {step.icws_status}" if step.icws_status else ""
            message = f": {Truncator(step.icws_message).chars(120)}" if step.icws_message else ""
            icws = format_html(' <span class="error">ICWS{}{}</span>', status, message)
        items.append(
            format_html(
                '<li data-audit-step="{}"{}>\n        <a href="{}{}/"><time datetime="{}">{}'
                "</time></a>\n        "
                '<span class="badge badge-{}">{}</span>\n        {}{}\n      </li>',
                step.pk,
                marks,
                detail,
                step.pk,
                local.isoformat(),
                local.strftime("%Y-%m-%d %H:%M:%S"),
                step.kind,
                step.get_kind_display(),
                step.headline,
                icws,
            )
        )
    return format_html("<ol>{}</ol>", mark_safe("".join(items)))  # noqa: S308 - escaped above
