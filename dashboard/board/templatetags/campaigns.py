"""Campaign names for pages that store campaign ids (jobs, audit rows, history).

Ids are what ICWS and the audit chain keep; people read names. One query per request loads
every campaign's name (a dialer has hundreds at most); an id no longer in the directory shows
as itself.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from dashboard.directory.selectors import campaign_names as campaign_names_of

register = template.Library()


def _names(context) -> dict[str, str]:
    request = context.get("request")
    cached = getattr(request, "_campaign_names", None)
    if cached is None:
        cached = campaign_names_of()
        if request is not None:
            request._campaign_names = cached
    return cached


@register.simple_tag(takes_context=True)
def campaign_names(context, ids) -> str:
    """``Renewals, Winback`` (each with its id as a tooltip), or an em dash for none."""
    if not ids:
        return "—"
    names = _names(context)
    return format_html_join(", ", '<span title="{}">{}</span>', ((i, names.get(i, i)) for i in ids))


@register.simple_tag(takes_context=True)
def campaign_links(context, ids) -> str:
    """Like ``campaign_names``, each name linking to its campaign page."""
    if not ids:
        return "—"
    names = _names(context)
    return format_html_join(
        ", ",
        '<a href="{}" title="{}">{}</a>',
        ((reverse("campaign-detail", args=[i]), i, names.get(i, i)) for i in ids),
    )


@register.simple_tag(takes_context=True)
def campaign_name(context, campaign_id: str) -> str:
    return format_html("{}", _names(context).get(campaign_id, campaign_id))
