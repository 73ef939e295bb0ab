"""The board's agent cards: the one place their markup is written (``CARD``).

A format string, not a template: the board holds about 6,000 cards at 5,000 agents, and the
template engine spends about 150 µs on each (over a second a page) where this spends a few.
Everything from ICWS is escaped here. A card is one line: a presence dot (its class), a checkbox
labelled by the agent's name (a link to the agent's page), the CIC status, an on-call marker,
the time in state and, while a move is in flight, the job moving it. The workgroup filter is
applied by the server (``wg-out``), the others by ``board.js`` as you type.

Compact on purpose (issue 15: 1.5 MB at 5,000 agents): ``data-s`` is the seconds in state at
render, counted on by ``board.js`` from the page's ``data-now``; ``</li>`` is left to the parser
and fixed attribute values go unquoted, as HTML allows; an agent in several columns is formatted
once (only the pick's column differs).
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from dashboard.board import columns_cache
from dashboard.board.selectors import Board, Card, Column

register = template.Library()

CARD = (
    '<li class="{cls}" data-agent-id="{id}"{since}{pending}{hidden}>'
    '<label><input type=checkbox name=pick value="{pick}"{disabled}>'
    '<a href="{href}">{name}</a></label><small>{status}</small>{oncall}{elapsed}{note}'
)
_HEAD, _TAIL = CARD.split("{pick}")
ON_CALL = '<span class="oc" role="img" aria-label="on a call" title="On a call">☎</span>'
EMPTY = '<li class="empty-column" data-empty>No agents</li>'
WAITING = (
    '<span class="card-waiting" data-waiting-ready title="Moved in: the agent has not sent '
    'ready-for-calls from their page yet">waiting for ready-for-calls</span>'
)


def elapsed(seconds: int) -> str:
    """Time in state as the card shows it: "<1m", "12m", "1h05" (board.js formats alike)."""
    if seconds < 60:
        return "<1m"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}"


def _agent_parts(card: Card, *, can_move: bool, now: int, href_prefix: str) -> tuple[str, str]:
    """The card before and after its pick's column part: the same in every column."""
    a = card.agent
    presence = a.presence
    pending = card.pending_job
    seconds = None if card.since is None else max(0, now - card.since)
    fields = {
        "cls": presence
        + (" pending" if pending else "")
        + (" wg-out" if card.outside_workgroup else ""),
        "id": escape(a.id),
        "since": "" if seconds is None else f' data-s="{seconds}"',
        "pending": f' data-pending-job="{pending}"' if pending else "",
        "hidden": " hidden" if card.hidden else "",
        "disabled": "" if can_move and not pending else " disabled",
        "href": href_prefix + quote(a.id, safe="") + "/",
        "name": escape(a.name),
        # Offline says "logged out" through its class (CSS), not 6,000 times in the page.
        "status": escape(a.status_id) if presence != "offline" else "",
        "oncall": ON_CALL if a.on_phone and presence != "offline" else "",
        "elapsed": "" if seconds is None else f"<time>{elapsed(seconds)}</time>",
        "note": f'<span class="card-pending">moving (job {pending})…</span>'
        if pending
        else (WAITING if card.waiting_ready else ""),
    }
    return _HEAD.format(**fields), card.agent_pick + _TAIL.format(**fields)


@register.simple_tag(takes_context=True)
def column_cards(context, board: Board, column: Column, can_move: bool) -> SafeString:
    """Every card of ``column`` (or its empty-state line), escaped."""
    if not column.cards:
        return mark_safe(EMPTY)  # noqa: S308 - a constant
    shared = context.render_context.get("board_cards")
    if shared is None:  # once per page: what every column's cards share
        shared = context.render_context["board_cards"] = {
            "parts": {},
            "href_prefix": reverse("agent-detail", args=["-"])[:-2],
        }
    parts = shared["parts"]
    column_pick = quote(column.id, safe="") + "/"
    out = []
    for card in column.cards:
        agent_parts = parts.get(card.agent.id)
        if agent_parts is None:
            agent_parts = parts[card.agent.id] = _agent_parts(
                card,
                can_move=can_move,
                now=board.server_now,
                href_prefix=shared["href_prefix"],
            )
        out.append(agent_parts[0] + column_pick + agent_parts[1])
    return mark_safe("".join(out))  # noqa: S308 - every ICWS text escaped in _agent_parts


class _CachedColumns(template.Node):
    def __init__(self, nodelist: template.NodeList, key: template.base.FilterExpression):
        self.nodelist, self.key = nodelist, key

    def render(self, context) -> str:
        key = self.key.resolve(context)
        if key is None:  # not cacheable (tests, previews): render as is
            return self.nodelist.render(context)
        html = columns_cache.get(key)
        if html is None:
            html = self.nodelist.render(context)
            columns_cache.put(key, html)
        return html


@register.tag
def cached_columns(parser, token):
    """``{% cached_columns key %}…{% endcached_columns %}``: the board's columns, rendered once
    per ``key`` (revision, filters, role; see ``dashboard.board.columns_cache``)."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("cached_columns takes one argument, the key")
    nodelist = parser.parse(("endcached_columns",))
    parser.delete_first_token()
    return _CachedColumns(nodelist, parser.compile_filter(bits[1]))
