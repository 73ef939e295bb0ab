"""The audit row's name cells, built in Python: three template loops per row cost more than the
page's queries at 50 rows (bench/audit_page.py)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
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
    for step in move.steps:  # every interpolated text goes through escape()
        local = timezone.localtime(step.at)
        marks = ""
        if step.pk in others:
            marks = f' data-audit-id="{step.pk}" data-audit-matched'
        elif step.pk == lead:
            marks = " data-audit-matched"
        icws = ""
        if step.icws_status or step.icws_message:
            status = f" {int(step.icws_status)}" if step.icws_status else ""
            message = f": {Truncator(step.icws_message).chars(120)}" if step.icws_message else ""
            icws = f' <span class="error">ICWS{status}{escape(message)}</span>'
        items.append(
            f'<li data-audit-step="{step.pk}"{marks}>\n        <a href="{detail}{step.pk}/">'
            f'<time datetime="{local.isoformat()}">{local:%Y-%m-%d %H:%M:%S}</time></a>\n'
            f'        <span class="badge badge-{escape(step.kind)}">'
            f"{escape(step.get_kind_display())}</span>\n        {escape(step.headline)}{icws}\n"
            "      </li>"
        )
    return mark_safe(f"<ol>{''.join(items)}</ol>")  # noqa: S308 - escaped above
