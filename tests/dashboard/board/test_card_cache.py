"""Cards kept across renders (``board_cards._cards``): a render shows what the agent is now.

The kept card is keyed by everything it shows; the clock's fields (seconds and time in state)
and the column are formatted at each render. These tests change rows behind the board's back
(no revision moves), so the rendered-columns cache is emptied before each render. a2 stays
logged out, without a time in state: its card is the same in both renders.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.board import columns_cache
from dashboard.directory.models import Agent
from tests.dashboard.board.test_board_dense import card_of


@pytest.fixture
def page(client, mover, dir_small):
    client.force_login(mover)

    def get():
        columns_cache.clear()
        response = client.get("/")
        assert response.status_code == 200
        return response.content.decode()

    return get


@pytest.mark.postgres_too
def test_a_render_after_a_change_shows_the_agents_new_name_status_and_time(page):
    now = timezone.now()
    Agent.objects.filter(id="a1").update(
        logged_in=True, status_id="At Lunch", status_changed=now - timedelta(minutes=5, seconds=3)
    )
    before = page()
    other_before = card_of(before, "{C1}", "a2")
    assert "At Lunch" in card_of(before, "{C1}", "a1")
    assert "data-t=5m" in card_of(before, "{C1}", "a1")

    Agent.objects.filter(id="a1").update(
        name="Ana <b>{x}</b>",
        status_id="Do Not Disturb",
        status_changed=now - timedelta(hours=2, minutes=1),
    )
    after = page()
    card = card_of(after, "{C1}", "a1")
    assert "Ana &lt;b&gt;{x}&lt;/b&gt;</a>" in card  # escaped, braces kept as they are
    assert "<small>Do Not Disturb</small>" in card
    assert "data-t=2h01" in card
    assert "At Lunch" not in card
    assert card_of(after, "{C1}", "a2") == other_before  # unchanged agent, same card


@pytest.mark.postgres_too
def test_a_kept_card_counts_time_in_state_from_each_render(page):
    Agent.objects.filter(id="a1").update(
        logged_in=True, status_id="Available", status_changed=timezone.now()
    )
    assert 'data-t="<1m"' in card_of(page(), "{C1}", "a1")
    # Same agent, same card key: only the state's start moved back (the clock, in effect).
    Agent.objects.filter(id="a1").update(status_changed=timezone.now() - timedelta(minutes=42))
    card = card_of(page(), "{C1}", "a1")
    assert "data-t=42m" in card
    seconds = int(card.split('data-s="', 1)[1].split('"', 1)[0])
    assert 42 * 60 <= seconds < 43 * 60
