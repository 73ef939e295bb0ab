"""Other supervisors' activity on the board: the report, its expiry, the words, the 400s."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.activity.models import BoardActivity
from tests.dashboard.conftest import user_with_role

pytestmark = pytest.mark.postgres_too


@pytest.fixture
def ana(django_user_model):
    user = user_with_role(django_user_model, "ana", "supervisor")
    user.first_name, user.last_name = "Ana", "<Silva>"
    user.save()
    return user


def report(client, **data):
    return client.post("/activity", data)


def columns(client):
    response = client.get("/activity")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    return response.json()["columns"]


def test_a_confirmation_shows_on_its_columns_for_others_by_full_name(client, ana, mover, dir_small):
    client.force_login(ana)
    body = {"action": "moving", "count": "12", "target": "{C2}", "source": ["{C1}"]}
    assert report(client, **body).status_code == 204
    assert columns(client) == {}  # not her own
    client.force_login(mover)
    line = "Ana <Silva> is moving 12 agents to Winback"  # plain text: activity.js escapes it
    assert columns(client) == {"{C1}": [line], "{C2}": [line]}


def test_a_stop_or_an_expired_heartbeat_clears_it(client, ana, mover, dir_small):
    client.force_login(ana)
    report(client, action="selecting", count="1", target="", source="{C1}")
    client.force_login(mover)
    assert columns(client) == {
        "{C1}": ["Ana <Silva> has 1 agent selected for Unassigned"],
        "": ["Ana <Silva> has 1 agent selected for Unassigned"],
    }
    BoardActivity.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert columns(client) == {}
    client.force_login(ana)
    report(client, action="dragging", count="3", source="{C1}")
    assert BoardActivity.objects.get().target is None
    report(client, action="stop")
    assert not BoardActivity.objects.exists()


def test_a_username_stands_in_for_a_missing_full_name(client, mover, dir_small, django_user_model):
    bo = user_with_role(django_user_model, "bo", "supervisor")
    client.force_login(bo)
    report(client, action="dragging", count="2", source="{C1}")
    client.force_login(mover)
    assert columns(client) == {"{C1}": ["bo is dragging 2 agents"]}


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({}, "action"),
        ({"action": "dancing"}, "action"),
        ({"action": "moving", "count": "x", "target": ""}, "count"),
        ({"action": "moving", "count": "0", "target": ""}, "count"),
        ({"action": "moving", "count": "²", "target": ""}, "count"),
        ({"action": "moving", "count": "2"}, "target"),
        ({"action": "moving", "count": "2", "target": "{NOPE}"}, "target"),
        ({"action": "moving", "count": "2", "target": "", "source": "{NOPE}"}, "source"),
        ({"action": "moving", "count": "2", "target": "a\x01b"}, "target"),
        ({"action": "dragging", "count": "2", "source": "x" * 201}, "source"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, mover, dir_small, data, named):
    client.force_login(mover)
    response = report(client, **data)
    assert response.status_code == 400
    assert f"Bad request: {named}:" in response.content.decode()
    assert not BoardActivity.objects.exists()


def test_it_wants_a_sign_in_and_a_role(client, dir_small, auditor):
    assert client.get("/activity").status_code == 302  # the sign-in page
    client.force_login(auditor)
    assert client.get("/activity").status_code == 200  # may watch the board
    assert report(client, action="stop").status_code == 403  # may not move


def test_the_read_is_cheap(client, ana, mover, dir_small, django_assert_max_num_queries):
    client.force_login(ana)
    report(client, action="moving", count="2", target="{C2}", source="{C1}")
    client.force_login(mover)
    columns(client)  # the first read of a process notes the visit (one write)
    # The session, the user and their roles, the activity rows with their users, the names.
    with django_assert_max_num_queries(5):
        columns(client)
