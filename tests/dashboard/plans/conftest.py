"""Plans' unit tests: the small directory of tests/dashboard/conftest.py, jobs not enqueued."""

from unittest import mock

import pytest

from dashboard.allocations import submit


@pytest.fixture(autouse=True)
def no_enqueue():
    """Unit tests stop at the queue; tests/integration/test_plans_run.py runs the real worker."""
    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True) as enqueue:
        yield enqueue


def plan_data(**overrides) -> dict:
    data = {
        "name": "Evening renewals",
        "agent_ids": ["a1", "a2"],
        "campaign_ids_in": ["{C2}"],
        "campaign_ids_out": ["{C1}"],
        "time_zone": "Europe/Berlin",
        "start": "2030-03-29T17:00",
        "end_time": "19:00",
        "repeat": "once",
    }
    data.update(overrides)
    return data
