"""The column heads written by ``board_heads`` (a format string, not a template loop): names
escaped, totals, the staffing target, an unknown state, and the board not kept after its render.
"""

from __future__ import annotations

import gc
import re
import weakref

import pytest
from django.template import Context

from dashboard.board import columns_cache
from dashboard.board.selectors import Card, Column
from dashboard.board.templatetags.board_heads import board_columns, column_head
from dashboard.board.views import board as board_views
from dashboard.directory.models import Agent, Campaign
from dashboard.directory.selectors import AgentRow, CampaignRow
from tests.dashboard.board.test_board_dense import REFRESH, head_of

SCRIPT = "<script>alert(\"x\")</script> & {braces} 'quoted'"
SCRIPT_ESCAPED = (
    "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; {braces} &#x27;quoted&#x27;"
)


def _agent(agent_id: str, *, logged_in=True, on_phone=False, status="Available") -> AgentRow:
    return AgentRow(agent_id, agent_id, "", status, logged_in, on_phone, 1, None)


def _column(state="on", target=None, name="Renewals", workgroup="Sales", agents=()) -> Column:
    campaign = CampaignRow(
        "{C1}", name, state, Campaign.State(state).label, workgroup, state == "on"
    )
    column = Column(campaign=campaign, staffing_target=target)
    column.cards = [Card(agent, "{C1}") for agent in agents]
    return column


def test_a_campaign_name_with_markup_is_escaped_in_the_head():
    head = column_head(_column(name=SCRIPT))
    assert f'<span class="column-name">{SCRIPT_ESCAPED}</span>' in head
    assert "<script>" not in head


def test_the_head_counts_each_presence_and_the_headcount():
    agents = [
        _agent("a1", on_phone=True),
        _agent("a2"),
        _agent("a3", status="At Lunch"),
        _agent("a4", status="Break"),
        _agent("a5", logged_in=False),
    ]
    head = column_head(_column(agents=agents))
    assert '<span class="headcount" data-headcount>5</span>' in head
    assert 'aria-label="1 on a call, 1 available, 2 away"' in head
    assert (
        '<span class="tot on-call">1</span><span class="tot available">1</span>'
        '<span class="tot away">2</span>'
    ) in head


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        (5, 'class="target under" data-staffing title="4 logged in, staffing target 5'),
        (4, 'class="target" data-staffing title="4 logged in, staffing target 4'),
    ],
)
def test_the_staffing_target_counts_logged_in_agents_only(target, shown):
    agents = [_agent(f"a{i}") for i in range(4)] + [_agent("off", logged_in=False)]
    head = column_head(_column(target=target, agents=agents))
    assert shown in head
    assert f">4/{target}</span>" in head


def test_no_staffing_target_shows_no_figure():
    assert "data-staffing" not in column_head(_column(agents=[_agent("a1")]))


def test_an_unknown_state_and_no_workgroup_show_as_unknown_not_an_error():
    head = column_head(_column(state="unknown", workgroup=None))
    assert 'data-state="unknown" open>' in head  # an unknown state can take calls: open
    assert '<span class="badge badge-unknown">Unknown</span>' in head
    assert "data-headcount>0</span>" in head


def test_the_unassigned_column_has_no_badge_and_an_empty_id():
    head = column_head(Column(campaign=None, cards=[Card(_agent("a1"), "")]))
    assert head.startswith('<details class="column" data-campaign-id="" data-state="" open>')
    assert "badge" not in head and '<span class="column-name">Unassigned</span>' in head


def test_an_off_column_starts_collapsed_and_a_filtered_one_hidden():
    off = _column(state="off")
    off.hidden = True
    head = column_head(off)
    assert head.startswith(
        '<details class="column column-off" data-campaign-id="{C1}" data-state="off" hidden>'
    )


@pytest.mark.postgres_too
def test_the_page_and_the_refresh_escape_an_icws_campaign_name(client, mover, dir_small):
    Campaign.objects.filter(id="{C1}").update(name=SCRIPT, staffing_target=2)
    Agent.objects.filter(id__in=["a1", "a2"]).update(logged_in=True, status_id="Available")
    client.force_login(mover)
    for headers in ({}, REFRESH):
        html = client.get("/", headers=headers).content.decode()
        head = head_of(html, "{C1}")
        assert f'<span class="column-name">{SCRIPT_ESCAPED}</span>' in head
        assert re.search(r'class="target" data-staffing[^>]*>2/2<', head)
        assert f'aria-label="{SCRIPT_ESCAPED}"' in html  # the column's card list
        assert f'<span class="visually-hidden"> in {SCRIPT_ESCAPED}</span>' in html
        assert '<script>alert("x")' not in html


def test_the_board_is_freed_when_its_columns_are_rendered(client, mover, dir_small, monkeypatch):
    """Not kept with the template context until a full garbage collection (see board_heads)."""
    built = []

    def board_view(**filters):
        board = real(**filters)
        built.append(weakref.ref(board))
        return board

    real = board_views.board_view
    monkeypatch.setattr(board_views, "board_view", board_view)
    client.force_login(mover)
    gc.disable()
    try:
        response = client.get("/", headers=REFRESH)
        assert response.status_code == 200 and "Renewals" in response.content.decode()
        assert len(built) == 1
        assert built[0]() is None, "the board outlived its render"
    finally:
        gc.enable()


def test_the_collector_is_paused_only_while_the_board_is_built_and_rendered(
    client, mover, dir_small, monkeypatch
):
    seen = []

    def board_view(**filters):
        seen.append(gc.isenabled())
        return real(**filters)

    real = board_views.board_view
    monkeypatch.setattr(board_views, "board_view", board_view)
    client.force_login(mover)
    assert client.get("/", headers=REFRESH).status_code == 200
    assert seen == [False] and gc.isenabled()
    gc.disable()  # someone else's choice is left as it is
    try:
        columns_cache.clear()
        assert client.get("/", headers=REFRESH).status_code == 200
        assert seen == [False, False] and not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_is_back_on_after_a_board_that_fails_to_build():
    def build():
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        board_columns(Context(), build, True)
    assert gc.isenabled()


def test_no_column_markup_carries_hx_on():
    """board.js's hx-on:* search does not walk the columns (nearly every element of the board):
    it relies on their markup, all written here and in board_cards, having no hx-on attribute."""
    from dashboard.board.templatetags import board_cards, board_heads

    modules = (board_heads, board_cards)
    strings = [v for m in modules for v in vars(m).values() if isinstance(v, str)]
    strings += board_cards._ELAPSED
    assert len(strings) > 1_000
    assert not [s for s in strings if "hx-on" in s]
