"""Request bodies (``schemas.Strict``): a JSON body is validated once, and still refuses what
it refused when ninja validated it twice (unknown fields, wrong types)."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import pytest
from pydantic import ValidationError

from dashboard.allocations.models import AllocationJob
from dashboard.api.schemas import AllocationIn

URL = "/api/allocations"
MOVE = {"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]}


def test_a_dict_body_is_validated_without_ninjas_second_pass():
    with mock.patch("ninja.schema.DjangoGetter") as getter:
        body = AllocationIn.model_validate({"agent_ids": ["a1"], "reason": "short"})
    getter.assert_not_called()
    assert body.agent_ids == ["a1"]
    assert body.reason == "short"
    assert body.campaign_ids_in == [] and body.expected_versions is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"agent_ids": ["a1"], "agent_id": "a2"}, "extra_forbidden"),
        ({"agent_ids": "a1"}, "list_type"),
        ({"agent_ids": ["a1"], "expected_versions": {"a1": True}}, "int_type"),
        ({}, "missing"),
    ],
)
def test_a_dict_body_still_refuses_what_it_refused(body, error):
    with pytest.raises(ValidationError) as raised:
        AllocationIn.model_validate(body)
    assert error in [e["type"] for e in raised.value.errors()]


def test_an_object_read_by_attribute_still_goes_through_ninjas_getter():
    found = SimpleNamespace(agent_ids=["a1"], campaign_ids_in=[], campaign_ids_out=["c1"])
    assert AllocationIn.model_validate(found).campaign_ids_out == ["c1"]


def test_an_unknown_field_in_a_post_is_a_400_and_queues_nothing(api, mover, dir_small):
    response = api.as_user(mover).post(URL, {**MOVE, "campaign_id_in": ["{C3}"]})
    assert response.status_code == 400, response.content
    assert "campaign_id_in" in response.content.decode()
    assert not AllocationJob.objects.exists()
