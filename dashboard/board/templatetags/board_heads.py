"""The board's columns: the one place a column's markup is written (its head, tools and list).

A format string, not a template loop: at 200 campaigns the template engine spent about 20 ms a
render resolving each head's two dozen variables (and more under load), where this spends one
``str.format`` a column. The cards inside come from ``board_cards`` (``CARD``). Every text from
ICWS or an admin (campaign names, states) is escaped here, as the template's autoescape did:
``html.escape`` with quotes, the same output as ``django.utils.html.escape``.

``{% board_columns build can_move %}`` takes the board's builder, not the board, and calls it
itself: the board (about 22,000 objects at 5,000 agents) then lives as long as this tag runs.
Anything a template context holds lives until the next full garbage collection (a context
refers to itself), and each of those walked every board rendered since the last one (about
60 ms a render at 5,000 agents, on the requests that paid it).

What ``board.js`` and the tests read is kept as it was: ``data-campaign-id``, ``data-state``,
``column-off``, ``open``, ``hidden``, ``data-headcount``, ``data-totals`` (and its
``aria-label``), the ``tot`` spans, ``data-staffing`` ("logged in/target"), ``data-shown-note``,
``data-column-activity``, ``data-select-column``, ``data-cards``, ``data-lazy``,
``data-lazy-link``, ``data-deferred``, ``data-deferred-cards``, ``data-deferred-link`` and
``data-empty``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from dashboard.board.selectors import Board, Column
from dashboard.board.templatetags.board_cards import column_cards

register = template.Library()

# The stamp board.js dates the cards' times in state from.
RENDERED_AT = '<span hidden data-rendered-at="{now}"></span>'
HEAD = (
    '<details class="column{off}" data-campaign-id="{id}" data-state="{state}"{open}{hidden}>'
    '<summary class="column-head"><span class="column-name">{name}</span>'
    '<span class="column-facts">{badge}<span class="headcount" data-headcount>{headcount}</span>'
    '<span class="totals" data-totals role="img" aria-label="{on_call} on a call, {available} '
    'available, {away} away"><span class="tot on-call">{on_call}</span><span class="tot '
    'available">{available}</span><span class="tot away">{away}</span></span>{staffing}'
    '<span class="shown-note muted" data-shown-note aria-live="polite"></span></span>'
    '<span class="column-activity" data-column-activity aria-live="polite"></span></summary>'
)
BADGE = '<span class="badge badge-{state}">{label}</span>'
STAFFING = (
    '<span class="target{under}" data-staffing title="{logged_in} logged in, staffing target '
    '{target} (set by an admin)">{logged_in}/{target}</span>'
)
TOOLS = (
    '<div class="column-tools js-only"><button type="button" class="link" data-select-column>'
    'Select all<span class="visually-hidden"> in {name}</span></button></div>'
)
# Cards of a collapsed column are rendered once it is opened (board.js asks for them); without
# JavaScript, the campaign's page lists them.
LAZY = (
    '<ul class="cards" data-cards data-campaign-id="{id}" data-lazy aria-label="{name}">'
    '<li class="empty-column" data-empty><a href="{href}" data-lazy-link>Show its {headcount} '
    "agents</a></li></ul>"
)
CARDS = '<ul class="cards" data-cards data-campaign-id="{id}" aria-label="{name}">'
END = "</ul></details>\n"
# Columns past the first INLINE_COLUMNS (two rows: the first screen at 1920x1080; on a larger
# screen board.js makes the next ones just after the first paint) carry their cards as
# text, which board.js turns into cards when the column comes on screen (and reads, without
# making cards, for the filters, "select all" and the totals). A card parsed into elements costs
# the renderer about 3 KB even where content-visibility skips its layout, its text a few hundred
# bytes: renderer at 5,000 agents x 200 campaigns (bench/board_render.py --quick, interleaved)
# RSS 201-204 -> 190-192 MB, private 65-66 -> 55 MB.
# The text is the content of a <noframes>: parsed as raw text (not markup) by every parser,
# htmx's included (a <script> would be, but htmx drops scripts: allowScriptTags is off), never
# shown (hidden). It cannot hold "</noframes": every text from ICWS in a card is escaped ("<"
# as "&lt;"). ASCII (other characters as references), so the browser keeps it one byte a
# character. Without JavaScript the column links to the campaign's page, as a collapsed one does.
INLINE_COLUMNS = 12
DEFERRED = (
    '<ul class="cards" data-cards data-campaign-id="{id}" data-deferred aria-label="{name}">'
    '<li class="empty-column" data-empty><a href="{href}" data-deferred-link>Show its {headcount} '
    "agents</a></li><noframes hidden data-deferred-cards>{cards}</noframes>"
)


def column_head(column: Column) -> str:
    """The ``<details>`` start and ``<summary>`` of ``column``: name, state, headcount, totals
    and, where an admin set one, logged in against the staffing target."""
    campaign = column.campaign
    totals = column.totals
    target = column.staffing_target
    state = escape(column.state)
    return HEAD.format(
        off=" column-off" if column.collapsed else "",
        id=escape(column.id),
        state=state,
        open="" if column.collapsed else " open",
        hidden=" hidden" if column.hidden else "",
        name=escape(column.name),
        badge=BADGE.format(state=state, label=escape(str(campaign.state_label)))
        if campaign is not None
        else "",
        headcount=column.headcount,
        on_call=totals["on_call"],
        available=totals["available"],
        away=totals["away"],
        staffing=""
        if target is None
        else STAFFING.format(
            under=" under" if column.understaffed else "",
            logged_in=column.logged_in,
            target=target,
        ),
    )


def _column(context, board: Board, column: Column, can_move: bool, deferred: bool) -> str:
    head = column_head(column)
    name = escape(column.name)
    if column.lazy:
        href = escape(reverse("campaign-detail", args=[column.id]))
        cards = LAZY.format(id=escape(column.id), name=name, href=href, headcount=column.headcount)
        return head + cards + "</details>\n"
    tools = TOOLS.format(name=name) if can_move and column.cards else ""
    cards = column_cards(context, board, column, can_move)
    if deferred:
        # isascii() reads a flag of the string: a column without a ☎ or an accent needs no pass.
        text = cards if cards.isascii() else cards.encode("ascii", "xmlcharrefreplace").decode()
        href = escape(reverse("campaign-detail", args=[column.id]))
        start = DEFERRED.format(
            id=escape(column.id), name=name, href=href, headcount=column.headcount, cards=text
        )
        return head + tools + start + END
    start = CARDS.format(id=escape(column.id), name=name)
    return head + tools + start + cards + END


def _deferred(board: Board) -> Iterator[bool]:
    """Per column, whether its cards go as text: a campaign's with cards on show after
    INLINE_COLUMNS such columns (a column a filter hides, or one collapsed, takes no place on
    screen). Unassigned, first, has no campaign page to link to without JavaScript."""
    inline = 0
    for column in board.columns:
        shows_cards = bool(column.cards) and not column.lazy and not column.hidden
        yield shows_cards and column.campaign is not None and inline >= INLINE_COLUMNS
        inline += shows_cards


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a board is built and rendered.

    The board holds no cycles, so dropping it frees it all; but while it is being built, its
    22,000 objects set off the collector dozens of times, each pass walking them, promoting
    them, and about every other render a full pass over everything not frozen at start-up
    (gunicorn.conf.py): 25 ms a render on average at 5,000 agents, most of it on the renders
    that paid the full pass. Re-enabled once the board is gone, so nothing of it is left to
    collect. Left alone if something else turned the collector off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@register.simple_tag(takes_context=True)
def board_columns(context, build: Callable[[], Board], can_move: bool) -> SafeString:
    """Every column of the board ``build()`` makes, escaped; the board is dropped on return."""
    with _collector_paused():
        board = build()
        out = [RENDERED_AT.format(now=board.server_now)]
        out.extend(
            _column(context, board, column, can_move, deferred)
            for column, deferred in zip(board.columns, _deferred(board), strict=True)
        )
        del board  # freed here, before the collector runs again
    return mark_safe("".join(out))  # noqa: S308 - every text escaped in column_head and _column
