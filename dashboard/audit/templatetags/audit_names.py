"""The audit row's name cells, built in Python: three template loops per row cost more than the
page's queries at 50 rows (bench/audit_page.py)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

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
