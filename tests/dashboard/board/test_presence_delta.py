"""The board's poll when only presence changed (issue 15, "live within 2 s" at 5,000 agents):
the changed agents as JSON for board.js to patch, not every column again; anything else, or
too many agents, re-renders as before."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.allocations.models import AllocationJob
from dashboard.board import selectors
from dashboard.directory.models import Agent, Campaign, RosterEntry
from dashboard.presence.writes import apply_statuses
from icws_client.models import UserStatus

REFRESH = {"HX-Request": "true", "HX-Target": "board-columns"}


@pytest.fixture
def board(client, mover, dir_small):
    """The board as a browser shows it: its revision, heard from the listener an hour ago."""
    # Apart by more than the delta's overlap (an agent heard at the shown stamp is sent again).
    hour_ago = timezone.now() - timedelta(hours=1)
    Agent.objects.update(logged_in=True, status_id="Available", presence_updated_at=hour_ago)
    Agent.objects.exclude(id="a1").update(presence_updated_at=hour_ago - timedelta(hours=1))
    client.force_login(mover)
    html = client.get("/").content.decode()
    return {"rev": re.search(r'"rev": "([0-9a-f]+)"', html).group(1), "client": client}


def poll(board, **params):
    return board["client"].get("/", {"rev": board["rev"], **params}, headers=REFRESH)


def heard(*statuses: UserStatus) -> None:
    """What the ICWS listener does with a userStatusMessage (dashboard.presence)."""
    apply_statuses(statuses)


@pytest.mark.postgres_too
def test_a_presence_only_change_answers_the_changed_agents_not_the_columns(board):
    changed_at = timezone.now() - timedelta(minutes=3)
    heard(
        UserStatus("a1", "Campaign Call", logged_in=True, on_phone=True, status_changed=changed_at),
        UserStatus("a2", "Available", logged_in=False),
    )
    heard_at = int(timezone.now().timestamp())
    response = poll(board)
    assert response.status_code == 200
    assert response["X-Board-Delta"] == "presence"
    assert response["HX-Reswap"] == "none"  # htmx never swaps the JSON into the board
    body = response.json()
    assert "data-agent-id" not in response.content.decode()
    assert body["columns"] == {}  # every column they are in is rendered: board.js counts
    agents = sorted(body["agents"], key=lambda a: a["id"])
    # CIC gave no statusChanged for a2: its state began when the listener heard it.
    assert heard_at - 2 <= agents[1].pop("since") <= heard_at
    assert agents == [
        {
            "id": "a1",
            "presence": "on-call",
            "status": "Campaign Call",
            "on_phone": True,
            "since": int(changed_at.timestamp()),
        },
        # Logged out: no status and no on-call marker, as its card shows it.
        {"id": "a2", "presence": "offline", "status": "", "on_phone": False},
    ]
    # The new revision is current: the next poll swaps nothing.
    assert body["rev"] != board["rev"]
    again = board["client"].get("/", {"rev": body["rev"]}, headers=REFRESH)
    assert again.status_code == 204


def test_agents_heard_before_the_shown_stamp_are_not_sent(board):
    heard(UserStatus("a1", "At Lunch", logged_in=True))
    first = poll(board).json()
    assert [a["id"] for a in first["agents"]] == ["a1"]
    # a3 is heard well after the board took a1's change in; a1 is not sent again...
    Agent.objects.filter(id="a1").update(presence_updated_at=timezone.now() - timedelta(minutes=1))
    Agent.objects.filter(id="a3").update(presence_updated_at=timezone.now() + timedelta(minutes=1))
    board["rev"] = first["rev"][: selectors.STRUCTURE_LENGTH] + format(
        selectors._micros(timezone.now()), "x"
    )
    assert [a["id"] for a in poll(board).json()["agents"]] == ["a3"]


def test_a_structure_change_re_renders_the_columns(board):
    heard(UserStatus("a1", "At Lunch", logged_in=True))
    Campaign.objects.filter(id="{C2}").update(name="Winback East")  # and presence moved too
    response = poll(board)
    assert response.status_code == 200
    assert "X-Board-Delta" not in response
    html = response.content.decode()
    assert "Winback East" in html and 'data-agent-id="a1"' in html


def test_a_roster_change_re_renders_the_columns(board):
    RosterEntry.objects.create(agent_id="a3", campaign_id="{C2}")
    Agent.objects.filter(id="a3").update(roster_version=1)
    response = poll(board)
    assert "X-Board-Delta" not in response
    assert 'data-campaign-id="{C2}"' in response.content.decode()


def test_more_changed_agents_than_the_bound_re_render(board, monkeypatch):
    monkeypatch.setattr(selectors, "DELTA_MAX", 2)
    heard(*(UserStatus(f"a{i}", "At Lunch", logged_in=True) for i in (1, 2, 3)))
    response = poll(board)
    assert "X-Board-Delta" not in response
    assert 'data-agent-id="a3"' in response.content.decode()
    monkeypatch.setattr(selectors, "DELTA_MAX", 3)
    assert poll(board)["X-Board-Delta"] == "presence"


def test_a_column_not_rendered_gets_its_totals_counted_by_the_server(board, mover):
    """A collapsed (off) column shows the server's totals and no cards: the delta counts them."""
    RosterEntry.objects.create(agent_id="a3", campaign_id="{C3}")  # Surveys, off
    RosterEntry.objects.create(agent_id="a4", campaign_id="{C3}")
    Agent.objects.filter(id__in=["a3", "a4"]).update(roster_version=1)
    board["rev"] = re.search(
        r'"rev": "([0-9a-f]+)"', board["client"].get("/").content.decode()
    ).group(1)
    heard(UserStatus("a3", "At Lunch", logged_in=True))
    body = poll(board).json()
    # a1 was heard at the shown stamp: sent again (the overlap), harmless.
    assert sorted(a["id"] for a in body["agents"]) == ["a1", "a3"]
    assert body["columns"] == {"{C3}": {"on_call": 0, "available": 1, "away": 1, "offline": 0}}
    # Opened by the user, its cards are on the page: board.js counts them.
    assert poll(board, open="{C3}").json()["columns"] == {}
    # While a move is in flight its cards are where the job will put them: the board re-renders.
    AllocationJob.objects.create(requested_by=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"])
    board["rev"] = re.search(
        r'"rev": "([0-9a-f]+)"', board["client"].get("/").content.decode()
    ).group(1)
    heard(UserStatus("a4", "At Lunch", logged_in=True))
    assert "X-Board-Delta" not in poll(board)


@pytest.mark.parametrize(
    "shown",
    ["", "x", "0" * 16, "zz" * 10, "{structure}FF", "{structure}" + "f" * 16, "{structure}g"],
)
def test_a_revision_that_is_not_one_re_renders_and_never_fails(board, shown):
    heard(UserStatus("a1", "At Lunch", logged_in=True))
    board["rev"] = shown.format(structure=board["rev"][: selectors.STRUCTURE_LENGTH])
    response = poll(board)
    assert response.status_code in (200, 204)
    if "X-Board-Delta" in response:  # only a stamp past the current one: nothing to patch
        assert shown.endswith("f" * 16) and response.json()["agents"] == []
    else:
        assert 'data-agent-id="a1"' in response.content.decode()


def test_a_full_page_after_a_presence_change_is_not_served_stale_from_the_cache(board):
    heard(UserStatus("a1", "At Lunch", logged_in=True))
    html = board["client"].get("/").content.decode()
    card = re.search(r'<li class="([^"]*)" data-agent-id="a1"', html).group(1)
    assert card.split()[0] == "away"
    assert "At Lunch" in html
