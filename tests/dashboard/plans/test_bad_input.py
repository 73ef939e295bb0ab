"""Hostile or broken input to the plan pages and API: a clear 4xx naming the problem, never a
500, nothing saved. (The route tables of tests/dashboard/test_fuzz_parameters.py and
test_permissions.py cover every route; these are the plan-specific shapes.)"""

import pytest

from dashboard.plans.models import Plan
from tests.dashboard.plans.conftest import plan_data
from tests.dashboard.plans.test_api import call

pytestmark = pytest.mark.postgres_too
HUGE = "9" * 30


@pytest.mark.parametrize(
    "body",
    [
        {**plan_data(), "name": ["a list"]},
        {**plan_data(), "agent_ids": "a1"},
        {**plan_data(), "agent_ids": ["a1", "a1"]},
        {**plan_data(), "agent_ids": ["x" * 201]},
        {**plan_data(), "weekdays": ["Monday"], "repeat": "weekdays"},
        {**plan_data(), "repeat": "fortnightly"},
        {**plan_data(), "days": ["2030-13-01"], "repeat": "days"},
        {**plan_data(), "start": "2030-03-29T25:00"},
        {**plan_data(), "start": "0"},
        {**plan_data(), "time_zone": "../../etc/passwd"},
        {**plan_data(), "end_time": "7pm"},
        {**plan_data(), "until": "soon", "repeat": "weekdays", "weekdays": [0]},
        {**plan_data(), "name": "x" * 201},
        {**plan_data(), "workgroup_id": "Nowhere", "agent_ids": []},
    ],
)
def test_api_bad_bodies_are_400(client, dir_small, mover, body):
    response = call(client, "post", "/api/plans", mover, body)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["errors"]
    assert not Plan.objects.exists()


@pytest.mark.parametrize("path", [f"/api/plans/{HUGE}", "/api/plans/0", "/api/plans/-1"])
def test_api_ids_out_of_range_are_404(client, dir_small, mover, path):
    assert call(client, "get", path, mover).status_code == 404


@pytest.mark.parametrize("path", [f"/plans/{HUGE}/", f"/plans/{HUGE}/edit", "/plans/0/"])
def test_page_ids_out_of_range_are_404(client, dir_small, mover, path):
    client.force_login(mover)
    assert client.get(path).status_code == 404
    assert client.post(f"/plans/{HUGE}/pause").status_code == 404


def test_form_with_garbage_is_400_with_messages(client, dir_small, mover):
    client.force_login(mover)
    response = client.post(
        "/plans/new",
        {
            "name": "",
            "who": "workgroup",
            "workgroup_id": "Nowhere",
            "campaign_ids_in": ["{nope}"],
            "weekdays": ["x"],
            "repeat": "weekdays",
            "start": "yesterday",
            "time_zone": "",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    for words in ("give the plan a name", "unknown workgroup", "unknown campaigns", "weekday"):
        assert words in page
    assert not Plan.objects.exists()


def test_from_board_with_a_broken_selection_goes_back_to_the_board(client, dir_small, mover):
    client.force_login(mover)
    response = client.post("/plans/new/from-board", {"picks": "garbage", "target": "{C2}"})
    assert response.status_code == 302 and response["Location"] == "/"
