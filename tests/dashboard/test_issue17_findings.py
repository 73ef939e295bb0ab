"""Issue 17 findings whose reported input had no test of its own.

The rest are covered where their code lives; the list is in the issue's closing note.
"""

from __future__ import annotations

from unittest import mock
from urllib.parse import quote

import pytest

from dashboard.allocations import submit
from dashboard.allocations.models import AllocationJob

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_too]


def test_the_reported_expected_field_on_the_move_form_is_not_a_500(client, mover, dir_small):
    """The report posted ``expected=a.bello:²``. The form now carries each agent's version in its
    pick (``column/agent/version``; a ² there is a 400 in test_moves.py); a stray ``expected`` field
    is not read, so the move's versions are the picks' and nothing else."""
    client.force_login(mover)
    data = {
        "picks": f"{quote('{C1}', safe='')}/a1/0",
        "target": "{C2}",
        "reason": "r",
        "idempotency_key": "k-17",
        "expected": "a1:²",
    }
    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True):
        response = client.post("/moves/", data)
    assert response.status_code == 302
    assert AllocationJob.objects.get().expected_versions == {"a1": 0}
