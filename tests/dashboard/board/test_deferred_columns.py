"""Deferred columns (board_heads.DEFERRED): past INLINE_COLUMNS columns with cards, a campaign's
cards go as the raw text of a hidden <noframes>, the same markup as on the page, in ASCII."""

from __future__ import annotations

import re

import pytest

from dashboard.board import columns_cache
from dashboard.board.templatetags import board_heads
from dashboard.directory.models import Agent, Campaign, RosterEntry

from .test_board_dense import card_of


@pytest.fixture
def page(client, mover, dir_small):
    client.force_login(mover)

    def get(inline: int, **params) -> str:
        board_heads.INLINE_COLUMNS, before = inline, board_heads.INLINE_COLUMNS
        columns_cache.clear()  # rendered once per revision: not with another INLINE_COLUMNS
        try:
            response = client.get("/", params)
        finally:
            board_heads.INLINE_COLUMNS = before
        assert response.status_code == 200
        return response.content.decode()

    return get


def deferred_text(html: str, column: str) -> tuple[str, str]:
    """A deferred column's list and the text it carries; fails if the column is not deferred."""
    start = html.index(f'<ul class="cards" data-cards data-campaign-id="{column}" data-deferred')
    body = html[start : html.index("</ul>", start)]
    match = re.search(r"<noframes hidden data-deferred-cards>(.*)</noframes>", body, re.S)
    assert match, body
    return body, match.group(1)


def test_columns_past_the_first_carry_their_cards_as_the_same_markup_in_text(page):
    # dir_small: Unassigned holds a3 and a4, Renewals {C1} a1 and a2, Winback {C2} none.
    inline, deferred = page(100), page(1)
    assert "data-deferred" not in inline
    body, text = deferred_text(deferred, "{C1}")
    assert text == "".join(card_of(inline, "{C1}", agent) for agent in ("a1", "a2"))
    # Without JavaScript: a link to the campaign's page, as a collapsed column has.
    assert re.search(
        r'href="/campaigns/(%7B|\{)C1(%7D|\})/" data-deferred-link>Show its 2 agents', body
    )
    assert 'data-agent-id="a3"' in card_of(deferred, "", "a3")  # the first column stays cards


def test_unassigned_and_columns_not_on_show_are_never_deferred(page):
    html = page(0)
    assert 'data-agent-id="a3"' in card_of(html, "", "a3")  # no campaign page to link to
    deferred_text(html, "{C1}")
    # A column the state filter hides takes no place on screen: it neither is deferred nor
    # counts towards the first columns.
    Campaign.objects.filter(id="{C1}").update(state="paused")
    RosterEntry.objects.create(agent_id="a3", campaign_id="{C2}")
    html = page(2, state="on")
    assert 'data-agent-id="a1"' in card_of(html, "{C1}", "a1")
    assert "data-deferred" not in html
    html = page(1, state="on")
    deferred_text(html, "{C2}")


def test_the_text_is_ascii_and_escaped(page):
    Agent.objects.filter(id="a1").update(name="José <b>Ñ</b> ☎")
    _, text = deferred_text(page(1), "{C1}")
    assert text.isascii()
    assert "Jos&#233; &lt;b&gt;&#209;&lt;/b&gt; &#9742;" in text
    assert "</noframes" not in text and "<b>" not in text
