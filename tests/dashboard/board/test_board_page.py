"""The board page: columns, cards, projection of moves in flight, filters, escaping, roles."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.allocations.models import AllocationJob
from dashboard.board.selectors import board_revision
from dashboard.directory.models import Agent, Campaign, RosterEntry, Workgroup


def columns_of(html: str, *, shown_only: bool = True) -> dict[str, list[str]]:
    """campaign id -> agent ids of the cards in that column, from the rendered page; by default
    only what a browser shows (filtered-out columns and cards carry ``hidden``)."""
    result = {}
    for column in re.finditer(r"<details class=\"column[^>]*>(.*?)</details>", html, re.S):
        head = column.group(0)[: column.group(0).index(">") + 1]
        if shown_only and re.search(r"\shidden[\s>]", head):
            continue
        cards = re.search(r'<ul class="cards" data-cards data-campaign-id="([^"]*)"', column[1])
        result[cards.group(1)] = [
            re.search(r'data-agent-id="([^"]+)"', tag).group(1)
            for tag in re.findall(r"<li [^>]*data-agent-id=[^>]*>", column.group(1))
            if not (shown_only and re.search(r"\shidden>", tag))
        ]
    return result


@pytest.fixture
def board(client, mover, dir_small):
    client.force_login(mover)

    def get(**params):
        response = client.get("/", params)
        assert response.status_code == 200
        return response.content.decode()

    return get


def test_it_shows_a_column_per_campaign_and_unassigned(board):
    html = board()
    assert columns_of(html) == {"": ["a3", "a4"], "{C1}": ["a1", "a2"], "{C2}": [], "{C3}": []}
    assert 'data-campaign-id=""' in html
    assert "Renewals" in html and "Unassigned" in html


def test_off_campaigns_start_collapsed(board):
    html = board()
    off = re.search(r'<details class="column column-off" data-campaign-id="\{C3\}"[^>]*>', html)
    assert off and " open" not in off.group(0)
    on = re.search(r'<details class="column" data-campaign-id="\{C1\}"[^>]*>', html)
    assert on and " open" in on.group(0)


def test_a_move_in_flight_shows_its_agents_where_they_are_going_as_pending(board, mover):
    job = AllocationJob.objects.create(
        requested_by=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"], campaign_ids_out=["{C1}"]
    )
    html = board()
    cols = columns_of(html)
    assert cols["{C2}"] == ["a1"] and cols["{C1}"] == ["a2"]
    assert f'data-pending-job="{job.pk}"' in html
    job.status = AllocationJob.Status.FAILED
    job.save()
    assert columns_of(board())["{C1}"] == ["a1", "a2"]


def test_filters_work_without_javascript(board):
    assert columns_of(board(workgroup="Care"))[""] == ["a3", "a4"]
    assert columns_of(board(workgroup="Care"))["{C1}"] == []
    assert columns_of(board(q="agent 1"))["{C1}"] == ["a1"]
    assert set(columns_of(board(state="on"))) == {"", "{C1}", "{C2}"}
    Agent.objects.filter(id="a2").update(logged_in=True, status_id="Available")
    assert columns_of(board(presence="available"))["{C1}"] == ["a2"]


def test_the_presence_filter_offers_words_and_keeps_the_choice(board):
    options = re.search(r'<select name="presence".*?</select>', board(presence="offline"), re.S)[0]
    assert re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)<', options) == [
        ("", "Any"),
        ("available", "Available"),
        ("on-call", "On a call"),
        ("away", "Away"),
        ("offline", "Logged out"),
    ]
    assert '<option value="offline" selected>' in options


def test_filtered_out_cards_are_on_the_page_hidden_so_a_looser_filter_can_show_them(board):
    html = board(q="agent 1", state="off")
    everything = columns_of(html, shown_only=False)
    assert everything["{C1}"] == ["a1", "a2"]  # a2 is there, hidden
    assert set(everything) == {"", "{C1}", "{C2}", "{C3}"}  # and so are the filtered columns
    assert columns_of(html) == {"": [], "{C3}": []}


def test_names_from_icws_are_escaped(board):
    Agent.objects.filter(id="a1").update(name='<script>alert("x")</script>')
    Campaign.objects.filter(id="{C1}").update(name="<b>Renewals</b>")
    html = board()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<b>Renewals</b>" not in html


def test_the_htmx_refresh_returns_only_the_columns(client, mover, dir_small):
    client.force_login(mover)
    response = client.get("/", headers={"HX-Request": "true", "HX-Target": "board-columns"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board-columns"')
    assert "<html" not in html


def test_a_viewer_without_the_supervisor_role_sees_no_move_controls(client, auditor, dir_small):
    client.force_login(auditor)
    html = client.get("/").content.decode()
    assert "data-move-open" not in html
    assert "may view the board but not move" in html or "not move agents" in html
    assert all(" disabled" in box for box in re.findall(r"<input type=checkbox[^>]*>", html))
    assert "Drag an agent card" not in html  # no instructions it cannot follow
    assert "Your role does not move agents" in html


def test_a_failed_move_keeps_its_explanation_and_retry_after_a_reload(board, mover):
    AllocationJob.objects.create(
        requested_by=mover,
        agent_ids=["a1"],
        campaign_ids_in=["{C2}"],
        status=AllocationJob.Status.FAILED,
        error_kind=AllocationJob.ErrorKind.RETRIES_EXHAUSTED,
        error_status=503,
        error_message="Switchover in progress",
    )
    html = board()
    assert "data-job-error" in html
    assert "data-job-retry" in html


def test_a_user_without_any_role_is_refused(client, no_role_user, dir_small):
    client.force_login(no_role_user)
    assert client.get("/").status_code == 403


def test_anonymous_users_are_sent_to_login(client, dir_small):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def _grow(n: int, campaigns: int) -> None:
    group = Workgroup.objects.get(id="Sales")
    new_campaigns = Campaign.objects.bulk_create(
        Campaign(id=f"{{G{len(Campaign.objects.all())}-{i}}}", name=f"G{i}", state="on")
        for i in range(campaigns)
    )
    agents = Agent.objects.bulk_create(
        Agent(id=f"g{Agent.objects.count()}-{i}", name=f"G {i}") for i in range(n)
    )
    Agent.workgroups.through.objects.bulk_create(
        Agent.workgroups.through(agent_id=a.id, workgroup_id=group.id) for a in agents
    )
    RosterEntry.objects.bulk_create(
        RosterEntry(agent=a, campaign=new_campaigns[i % len(new_campaigns)])
        for i, a in enumerate(agents)
    )


def test_the_query_count_does_not_grow_with_agents_or_campaigns(client, mover, dir_small):
    from dashboard.board import columns_cache

    client.force_login(mover)
    client.get("/")
    counts = []
    for grow in (0, 1):
        if grow:
            _grow(60, 5)
        columns_cache.clear()  # both renders build the columns
        with CaptureQueriesContext(connection) as queries:
            client.get("/")
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_periodic_refresh_is_204_while_nothing_changed(client, mover, dir_small):
    client.force_login(mover)
    refresh = {"HX-Request": "true", "HX-Target": "board-columns"}
    html = client.get("/", headers=refresh).content.decode()
    revision = re.search(r'"rev": "([0-9a-f]+)"', html).group(1)
    assert client.get("/", {"rev": revision}, headers=refresh).status_code == 204
    Agent.objects.filter(id="a1").update(roster_version=1)  # someone moved an agent
    changed = client.get("/", {"rev": revision}, headers=refresh)
    assert changed.status_code == 200
    assert re.search(r'"rev": "([0-9a-f]+)"', changed.content.decode()).group(1) != revision
    # A full page load always renders, whatever it is sent.
    assert client.get("/", {"rev": revision}).status_code == 200


def test_an_empty_directory_says_why_and_what_to_do(client, mover, db):
    client.force_login(mover)
    html = client.get("/").content.decode()
    assert "data-board-empty" in html
    assert "has not been synced" in html


def test_the_revision_moves_when_a_job_only_changes_status(mover, dir_small):
    """A failed move changes no roster version: the job's own change must be enough."""
    job = AllocationJob.objects.create(
        requested_by=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"], status="running"
    )
    before = board_revision()
    AllocationJob.objects.filter(pk=job.pk).update(status="failed")
    assert board_revision() != before


def test_a_presence_change_moves_the_revision(mover, dir_small):
    """The listener stamps presence_updated_at: the one-second poll must see it."""
    from django.utils import timezone

    before = board_revision()
    Agent.objects.filter(id="a1").update(
        status_id="On Call", on_phone=True, presence_updated_at=timezone.now()
    )
    assert board_revision() != before


def test_search_ignores_accents_and_case(board):
    Agent.objects.filter(id="a1").update(name="José Núñez")
    shown = columns_of(board(q="jose nun"))
    assert shown["{C1}"] == ["a1"]
    assert columns_of(board(q="JOSÉ"))["{C1}"] == ["a1"]


def test_the_poll_carries_the_top_bar_health_out_of_band(client, mover, dir_small):
    from django.utils import timezone

    from dashboard.directory.models import SyncRun

    client.force_login(mover)
    refresh = {"HX-Request": "true", "HX-Target": "board-columns"}
    html = client.get("/", headers=refresh).content.decode()
    revision = re.search(r'"rev": "([0-9a-f]+)"', html).group(1)
    assert 'id="icws-health"' in html and 'hx-swap-oob="true"' in html
    SyncRun.objects.create(finished_at=timezone.now(), ok=False, error="ICWS down")
    changed = client.get("/", {"rev": revision}, headers=refresh)
    assert changed.status_code == 200  # only the health changed, and the poll brings it
    assert 'data-icws-health="down"' in changed.content.decode()
    # The full page has it once, in the top bar, not out of band.
    page = client.get("/").content.decode()
    assert page.count('id="icws-health"') == 1 and 'hx-swap-oob="true"' not in page


def test_a_column_has_a_place_for_its_shown_note(board):
    assert board().count("data-shown-note") == 4
