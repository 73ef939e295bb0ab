"""The preview's campaign-state warning says which source it rests on (issue 13 item 2)."""

from __future__ import annotations

import pytest

from dashboard.directory.models import Campaign

from .test_moves import pick

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("source", "words"),
    [("admin", "(recorded by an admin)"), ("icws", "(as CIC reports it)")],
)
def test_off_target_warning_names_its_source(client, mover, dir_small, source, words):
    Campaign.objects.filter(id="{C3}").update(state="off", state_source=source)
    client.force_login(mover)
    html = client.get(
        "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C3}"}
    ).content.decode()
    assert f"Surveys is off {words}" in html


def test_unknown_state_gives_no_off_warning(client, mover, dir_small):
    Campaign.objects.filter(id="{C3}").update(state="unknown", state_source="")
    client.force_login(mover)
    html = client.get(
        "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C3}"}
    ).content.decode()
    assert "Surveys is" not in html
