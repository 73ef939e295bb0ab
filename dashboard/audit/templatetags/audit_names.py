"""The audit page's rows and a move's steps, built in Python: a template node per cell of ~90
events a page cost more than the page's queries (bench/audit_page.py: about two thirds of the
first page's CPU went to rendering the row partial's ~30 nodes per row). Every interpolated
text goes through ``escape``; these functions are the one markup source of a row (the audit
list and the agent and campaign history include the same partial, which calls ``audit_row``).
"""

from __future__ import annotations

from html import escape as _escape

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from dashboard.audit.models import AuditEvent
from dashboard.audit.search import resolve_names
from dashboard.audit.selectors import JOB_FINISHED, OUTCOMES

register = template.Library()
SHOWN_AGENTS = 3
# Kind -> label once, not Django's get_kind_display (which rebuilds a hashable copy of the 26
# choices on every call).
KIND_LABELS = {value: str(label) for value, label in AuditEvent.Kind.choices}


def escape(text) -> str:
    """``django.utils.html.escape`` without its lazy wrapper and SafeString (same text)."""
    return _escape(str(text))


def _kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def _cache(context) -> dict:
    """A dict kept for the whole request (on it, as the campaign name tags keep theirs), else
    for this render: each partial's render gets a fresh ``render_context`` scope, so that
    would not outlive a row."""
    request = context.get("request")
    if request is None:
        return context.render_context.dicts[0]
    if not hasattr(request, "_audit_rows"):
        request._audit_rows = {}
    return request._audit_rows


def _page(context) -> tuple:
    """(time zone, entry URL prefix, job URL prefix), looked up once, not per row:
    ``reverse`` and the current time zone cost more than a row's own text."""
    cache = _cache(context)
    found = cache.get("page")
    if found is None:
        found = cache["page"] = (
            timezone.get_current_timezone(),
            reverse("audit-detail", args=[0])[:-2],  # ".../audit/0/" -> ".../audit/"
            reverse("job-detail", args=[0])[:-2],
        )
    return found


def _truncated(text: str, length: int) -> str:
    return Truncator(text).chars(length)  # as the truncatechars filter (NFC included)


def agents_cell(event) -> str:
    """``2: Emma Ortiz (a1), a2`` — the count, then up to three names with their ids."""
    pairs = event.agents_named
    if not pairs:
        return "0"
    shown = ", ".join(
        f'<span title="{escape(i)}">{escape(n)}</span> <span class="muted">({escape(i)})</span>'
        if n
        else escape(i)
        for i, n in pairs[:SHOWN_AGENTS]
    )
    more = "…" if len(pairs) > SHOWN_AGENTS else ""
    return f"{len(pairs)}: {shown}{more}"


def campaigns_cell(pairs, move: bool = False) -> str:
    """``Spring Upsell, {C9}`` (each with its id as a tooltip); for none, "Unassigned" on a
    move's row (the agents came from, or went to, no campaign: the job page's word), else an em
    dash."""
    if not pairs:
        return '<span class="muted">Unassigned</span>' if move else "—"
    return ", ".join(f'<span title="{escape(i)}">{escape(n or i)}</span>' for i, n in pairs)


def _campaign_pairs(context, ids: list[str]) -> list[tuple[str, str]]:
    """(id, name) for a row written before rows kept names: today's names from the directory
    (through the resolver it registers), asked once per id per request."""
    known = _cache(context).setdefault("campaign_names", {})
    missing = [i for i in ids if i not in known]
    if missing:
        found = resolve_names([], missing)[1]
        known.update({i: found.get(i, i) for i in missing})
    return [(i, known[i]) for i in ids]


def _result_cell(e, move_reason: str = "") -> str:
    parts = []
    if e.reason:
        parts.append(escape(_truncated(e.reason, 80)))
    elif move_reason:  # the row stands for the move: its reason, then this event's result
        parts.append(f"{escape(_truncated(move_reason, 80))}<br>")
    if e.icws_status or e.icws_message:
        status = f" {int(e.icws_status)}" if e.icws_status else ""
        error_id = f" {escape(e.icws_error_id)}" if e.icws_error_id else ""
        message = f": {escape(_truncated(e.icws_message, 80))}" if e.icws_message else ""
        parts.append(f' <span class="error">ICWS{status}{error_id}{message}</span>')
    if not e.reason and not e.icws_status and not e.icws_message:
        parts.append(f'<span class="muted">{escape(_truncated(e.message, 80))}</span>')
    return "".join(parts)


@register.simple_tag(takes_context=True)
def audit_row(context, e, move=None) -> str:
    """One audit event as the list's ``<tr>``: when, what (in words), who, agents, campaigns
    into and out of, reason or ICWS result, and the job with its status. ``move``: the list's
    ``selectors.Move`` this row leads, whose requester and reason it also shows where the
    event is not the requester's own (the history passes none)."""
    zone, detail, jobs = _page(context)
    by = escape(e.actor_username or "system")
    move_reason = ""
    if move and e.job_id and move.mover and move.mover != e.actor_username:
        by += f' <span class="muted" data-audit-mover>· move by {escape(move.mover)}</span>'
        move_reason = move.move_reason
    local = e.at.astimezone(zone)  # timezone.localtime, the zone looked up once
    kind = escape(e.kind)
    if e.campaign_names:
        ins, outs = e.ins_named, e.outs_named
    else:
        ins = _campaign_pairs(context, e.campaign_ids_in)
        outs = _campaign_pairs(context, e.campaign_ids_out)
    move = job = ""
    if e.job_id:
        move = f' data-audit-move="{int(e.job_id)}"'
        status = escape(e.job.status)
        # The job's words, not its code ("Accepted by CIC", not "succeeded"): the outcome
        # filter's choices, so the badge reads as the filter that finds it.
        words = OUTCOMES[e.job.status] if e.job.status in JOB_FINISHED else OUTCOMES["pending"]
        job = (
            f'<a href="{jobs}{int(e.job_id)}/">{int(e.job_id)}</a> '
            f'<span class="badge badge-{status}" data-audit-outcome>{escape(words)}</span>'
        )
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above or here
        f'<tr data-audit-id="{int(e.pk)}" data-kind="{kind}"{move}>\n'
        f'      <td><a href="{detail}{int(e.pk)}/"><time datetime="{local.isoformat()}">'
        f"{local:%Y-%m-%d %H:%M:%S}</time></a></td>\n"
        f'      <td><span class="badge badge-{kind}">{escape(_kind_label(e.kind))}</span> '
        f"<span data-audit-headline>{escape(e.headline)}</span></td>\n"
        f"      <td>{by}</td>\n"
        f"      <td data-audit-agents>{agents_cell(e)}</td>\n"
        f"      <td data-audit-into>{campaigns_cell(ins, bool(e.job_id))}</td>\n"
        f"      <td data-audit-out>{campaigns_cell(outs, bool(e.job_id))}</td>\n"
        f"      <td data-audit-result>{_result_cell(e, move_reason)}</td>\n"
        f"      <td>{job}</td>\n"
        "    </tr>"
    )


@register.simple_tag(takes_context=True)
def audit_steps(context, move) -> str:
    """A move's steps (``selectors.Move``), oldest first, as the collapsed row under its lead:
    each links to its entry; the steps the filter matched other than the row's own keep
    ``data-audit-id`` (so a filter on a retry or an ICWS message says which step matched)."""
    zone, detail, _ = _page(context)
    lead, others = move.lead.pk, move.other_matched_ids
    items = []
    for step in move.steps:  # every interpolated text goes through escape()
        local = step.at.astimezone(zone)
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
            f"{escape(_kind_label(step.kind))}</span>\n        {escape(step.headline)}{icws}\n"
            "      </li>"
        )
    job_id = int(move.lead.job_id)
    count = len(move.steps)
    return mark_safe(  # noqa: S308 - escaped above
        f'<tr class="audit-steps" data-audit-steps="{job_id}"><td colspan="8">\n'
        f"      <details><summary>{count} step{'' if count == 1 else 's'} of job {job_id}"
        f"</summary>\n      <ol>{''.join(items)}</ol>\n      </details>\n    </td></tr>"
    )
