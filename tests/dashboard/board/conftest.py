"""A queued job moving a1 from Renewals {C1} to Winback {C2}, for the job page tests."""

import pytest

from dashboard.allocations.models import AllocationJob


@pytest.fixture
def job(mover, dir_small):
    return AllocationJob.objects.create(
        requested_by=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"], campaign_ids_out=["{C1}"]
    )


@pytest.fixture(autouse=True)
def _no_cached_columns():
    """Tests change names in the database directly, which moves no board revision: each test
    starts without rendered columns from the one before."""
    from dashboard.board import columns_cache

    columns_cache.clear()
    yield
    columns_cache.clear()
