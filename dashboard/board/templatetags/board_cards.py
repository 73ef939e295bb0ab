"""The board's agent cards: the one place their markup is written (``CARD``).

A format string, not a template: the board holds about 6,000 cards at 5,000 agents, and the
template engine spends about 150 µs on each (over a second a page) where this spends a few.
Everything from ICWS is escaped here. A card is one line: a presence dot (its class), a checkbox
labelled by the agent's name (a link to the agent's page), the CIC status, an on-call marker,
the time in state and, while a move is in flight, the job moving it. The workgroup filter is
applied by the server (``wg-out``), the others by ``board.js`` as you type.

Compact on purpose (issue 15: 1.5 MB at 5,000 agents): ``data-s`` is the seconds in state at
render, counted on by ``board.js`` from the page's ``data-now``, and ``data-t`` the time in
state shown (CSS ``attr()``); ``</li>`` is left to the parser
and fixed attribute values go unquoted, as HTML allows; an agent in several columns is formatted
once (only the pick's column differs).

A render after a structure change (a move, a job's start or end) formats again only the cards
whose agent changed: each card is kept across renders (``_cards``) as a format string of the
few fields the clock or the column changes.
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

# board.js reads this markup from the text of a deferred column (board_heads.DEFERRED) with one
# regular expression (DEFERRED_CARD): keep the attributes' order, or change both.
CARD = (
    '<li class="{cls}" data-agent-id="{id}"{since}{elapsed}{pending}{hidden}>'
    '<label><input type=checkbox name=pick value="{pick}"{disabled}>'
    '<a href="{href}">{name}</a></label><small>{status}</small>{oncall}{note}'
)
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


def _elapsed_attribute(seconds: int) -> str:
    """The card's ``data-t``, which CSS shows (``::after``) and board.js counts on: an attribute,
    not a ``<time>`` child, two DOM nodes fewer a card (12,000 at 5,000 agents)."""
    text = elapsed(seconds)
    return f' data-t="{text}"' if text.startswith("<") else f" data-t={text}"


# The card's ``elapsed`` for each whole minute of a day: looked up, not formatted, per card.
_ELAPSED = tuple(_elapsed_attribute(minute * 60) for minute in range(24 * 60))
# Formatted per card at each render: the clock moves them (``since``, ``elapsed``) and the
# column differs for an agent in several (``pick``). Everything else comes from ``_cards``.
_PER_RENDER = ("since", "pick", "elapsed")
# An agent's card with everything but those three formatted in, by all it shows (``_key``):
# kept across renders, so a render after a move formats again only the cards that changed.
# Bounded: cleared when it outgrows a few boards' worth (filters, roles, renamed agents);
# about half a kilobyte an entry.
_cards: dict[tuple, str] = {}
CARDS_KEPT = 20_000


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _key(card: Card, can_move: bool, href_prefix: str) -> tuple:
    a = card.agent
    return (
        a.id,
        a.name,
        a.status_id,
        a.logged_in,
        a.on_phone,
        a.roster_version,
        card.pending_job,
        card.hidden,
        card.outside_workgroup,
        card.waiting_ready,
        can_move,
        href_prefix,
    )


def _agent_card(card: Card, *, can_move: bool, href_prefix: str) -> str:
    """The card as a format string of its ``_PER_RENDER`` fields: the same in every column."""
    a = card.agent
    presence = a.presence
    pending = card.pending_job
    fields = {
        "cls": presence
        + (" pending" if pending else "")
        + (" wg-out" if card.outside_workgroup else ""),
        "id": escape(a.id),
        "pending": f' data-pending-job="{pending}"' if pending else "",
        "hidden": " hidden" if card.hidden else "",
        "disabled": "" if can_move and not pending else " disabled",
        "href": href_prefix + quote(a.id, safe="") + "/",
        "name": escape(a.name),
        # Offline says "logged out" through its class (CSS), not 6,000 times in the page.
        "status": escape(a.status_id) if presence != "offline" else "",
        "oncall": ON_CALL if a.on_phone and presence != "offline" else "",
        "note": f'<span class="card-pending">moving (job {pending})…</span>'
        if pending
        else (WAITING if card.waiting_ready else ""),
    }
    fields = {name: _braces(value) for name, value in fields.items()}
    fields.update({name: "{" + name + "}" for name in _PER_RENDER})
    fields["pick"] += _braces(card.agent_pick)
    return CARD.format(**fields)


@register.simple_tag(takes_context=True)
def column_cards(context, board: Board, column: Column, can_move: bool) -> SafeString:
    """Every card of ``column`` (or its empty-state line), escaped."""
    if not column.cards:
        return mark_safe(EMPTY)  # noqa: S308 - a constant
    href_prefix = context.render_context.get("board_cards_href")
    if href_prefix is None:  # once per page
        href_prefix = context.render_context["board_cards_href"] = reverse(
            "agent-detail", args=["-"]
        )[:-2]
    if len(_cards) > CARDS_KEPT:
        _cards.clear()
    now = board.server_now
    column_pick = quote(column.id, safe="") + "/"
    out = []
    for card in column.cards:
        key = _key(card, can_move, href_prefix)
        text = _cards.get(key)
        if text is None:
            text = _cards[key] = _agent_card(card, can_move=can_move, href_prefix=href_prefix)
        if card.since is None:
            out.append(text.format(since="", pick=column_pick, elapsed=""))
            continue
        seconds = max(0, now - card.since)
        minute = seconds // 60
        out.append(
            text.format(
                since=f' data-s="{seconds}"',
                pick=column_pick,
                elapsed=_ELAPSED[minute] if minute < len(_ELAPSED) else _elapsed_attribute(seconds),
            )
        )
    return mark_safe("".join(out))  # noqa: S308 - every ICWS text escaped in _agent_card


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
