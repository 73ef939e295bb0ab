"""The agent's page (/me/) and ready-for-calls against the strict simulator over real HTTP: the
request a succeeded move opens, each answer in words, the audit row, the board's marker."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from dashboard.agentpage.models import ReadyForCalls
from dashboard.agentpage.selectors import waiting_agent_ids, waiting_revision
from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Agent, Campaign, RosterEntry
from icws_client.simulator.seed import AGENT_PASSWORD
from tests.dashboard.conftest import user_with_role

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_too]

Kind = AuditEvent.Kind
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "me-panel"}


@pytest.fixture
def world(settings, sim, django_user_model):
    """The simulator's first agent and two of its campaigns in the directory; the agent signed
    in with CIC (so its ICWS session is kept); a supervisor named Ana Silva."""
    settings.ICWS_BASE_URL = sim.base_url
    settings.ICWS_TIMEOUT = 2.0
    settings.DASHBOARD_AUTH = "both"
    state = sim.state()
    agent_id = state["agents"][0]["id"]
    agent = Agent.objects.create(id=agent_id, name=state["agents"][0]["name"])
    first, second = state["campaigns"][:2]
    for c in (first, second):
        Campaign.objects.create(id=c["id"], name=c["name"])
    supervisor = user_with_role(django_user_model, "ana", "supervisor")
    supervisor.first_name, supervisor.last_name = "Ana", "Silva"
    supervisor.save()
    return {"sim": sim, "agent": agent, "in": first, "other": second, "supervisor": supervisor}


@pytest.fixture
def agent_client(client, world):
    response = client.post(
        "/accounts/login/", {"username": world["agent"].id, "password": AGENT_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/me/"
    return client


def _move_in(world) -> AllocationJob:
    """What a succeeded move leaves: the roster entry and its "succeeded" audit row."""
    job = AllocationJob.objects.create(
        requested_by=world["supervisor"],
        agent_ids=[world["agent"].id],
        campaign_ids_in=[world["in"]["id"]],
        status=AllocationJob.Status.SUCCEEDED,
    )
    RosterEntry.objects.create(agent=world["agent"], campaign_id=world["in"]["id"])
    audit_record(kind=Kind.SUCCEEDED, job=job, message="moved")
    return job


def _ready(client):
    return client.post("/me/ready/", **HTMX).content.decode()


def test_a_succeeded_move_in_opens_one_request_and_the_board_marks_the_agent(world):
    before = waiting_revision()
    job = _move_in(world)
    request = ReadyForCalls.objects.get()
    assert request.job == job and request.campaign_ids == [world["in"]["id"]]
    assert request.moved_by == world["supervisor"] and request.sent_at is None
    assert waiting_agent_ids() == {world["agent"].id}
    assert waiting_revision() != before  # the board's poll re-renders


def test_a_move_out_only_asks_nothing(world):
    job = AllocationJob.objects.create(
        requested_by=world["supervisor"],
        agent_ids=[world["agent"].id],
        campaign_ids_out=[world["in"]["id"]],
        status=AllocationJob.Status.SUCCEEDED,
    )
    audit_record(kind=Kind.SUCCEEDED, job=job, message="moved out")
    assert not ReadyForCalls.objects.exists()


def test_the_page_says_who_added_the_agent_where_and_when(agent_client, world, settings):
    _move_in(world)
    settings.TIME_ZONE = "UTC"
    agent_client.cookies["tz"] = "Asia/Tokyo"  # the viewer's zone, as dashboard.js stores it
    page = agent_client.get("/me/").content.decode()
    moved_at = timezone.localtime(ReadyForCalls.objects.get().moved_at, ZoneInfo("Asia/Tokyo"))
    assert "<strong>Ana Silva</strong> added you to" in page
    assert f"<strong>{world['in']['name']}</strong>" in page.replace("&#x27;", "'")
    assert f">{moved_at:%H:%M}</time>" in page
    assert "data-ready" in page


def test_ready_for_calls_without_a_dialer_log_in_is_explained_and_stays_waiting(
    agent_client, world
):
    _move_in(world)
    answer = _ready(agent_client)
    assert "not logged in to Dialer" in answer
    assert waiting_agent_ids() == {world["agent"].id}
    assert ReadyForCalls.objects.get().last_error.startswith("CIC refused it (400)")
    assert not AuditEvent.objects.filter(kind=Kind.READY_FOR_CALLS).exists()


def test_ready_for_calls_sent_stamps_the_request_audits_the_move_and_ends_the_wait(
    agent_client, world
):
    job = _move_in(world)
    sim = world["sim"]
    sim.dialer_login(world["agent"].id)
    answer = _ready(agent_client)
    assert "Sent: Dialer knows you are ready" in answer
    (call,) = sim.ready_for_calls_log()
    assert call["userId"] == world["agent"].id and call["status"] == 200
    assert call["campaignIds"] == [world["in"]["id"]]
    assert ReadyForCalls.objects.get().sent_at is not None
    row = AuditEvent.objects.get(kind=Kind.READY_FOR_CALLS)
    assert row.job == job and row.agent_ids == [world["agent"].id]
    assert row.campaign_ids_in == [world["in"]["id"]] and row.actor.username == world["agent"].id
    assert waiting_agent_ids() == set()
    assert "data-ready" not in agent_client.get("/me/").content.decode()  # nothing left to send


def test_no_dialer_licence_is_explained(agent_client, world):
    _move_in(world)
    world["sim"].set_faults(licence=False)
    assert "Dialer Add-on licence" in _ready(agent_client)


def test_a_session_cic_ended_asks_to_sign_in_again(agent_client, world):
    _move_in(world)
    world["sim"].set_faults(expire_sessions=True)
    answer = _ready(agent_client)
    assert "Sign out and sign in again" in answer and 'href="/accounts/login/"' in answer


def test_without_javascript_the_answer_comes_back_as_a_message(agent_client, world):
    _move_in(world)
    world["sim"].dialer_login(world["agent"].id)
    response = agent_client.post("/me/ready/", follow=True)
    assert "Sent: Dialer knows you are ready" in response.content.decode()


def test_the_poll_is_204_while_nothing_changed_and_renders_after_a_move(agent_client, world):
    first = agent_client.get("/me/", **HTMX)
    assert first.status_code == 200
    rev = re.search(r'"rev": "([0-9a-f]+)"', first.content.decode()).group(1)
    assert agent_client.get("/me/", {"rev": rev}, **HTMX).status_code == 204
    _move_in(world)
    changed = agent_client.get("/me/", {"rev": rev}, **HTMX)
    assert changed.status_code == 200 and "added you to" in changed.content.decode()


def test_presence_on_a_call_since_the_move_ends_the_wait(world):
    _move_in(world)
    agent = world["agent"]
    agent.on_phone, agent.status_changed = True, timezone.now() + timedelta(seconds=1)
    agent.save()
    assert waiting_agent_ids() == set()


def test_only_cic_agents_open_the_page(client, world):
    client.force_login(world["supervisor"])
    assert client.get("/me/").status_code == 403
    assert client.post("/me/ready/").status_code == 403


def test_the_top_bar_offers_each_user_only_the_pages_they_may_open(agent_client, client, world):
    page = agent_client.get("/me/").content.decode()
    assert '<a href="/me/" aria-current="page">My campaigns</a>' in page
    assert 'href="/jobs/"' not in page and 'href="/approvals/"' not in page
    assert '<a class="brand" href="/me/">' in page
    client.force_login(world["supervisor"])
    board = client.get("/").content.decode()
    assert 'href="/approvals/"' in board and 'href="/plans/"' in board
    assert "My campaigns" not in board


def test_the_board_marks_the_moved_agent_and_its_poll_re_renders(client, world):
    client.force_login(world["supervisor"])
    first = client.get("/")
    assert "data-waiting-ready" not in first.content.decode()
    rev = re.search(r'"rev": "([0-9a-f]+)"', first.content.decode()).group(1)
    _move_in(world)
    poll = client.get("/", {"rev": rev}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="board-columns")
    assert poll.status_code == 200  # the revision moved with the marker
    assert poll.content.decode().count("waiting for ready-for-calls") == 1
