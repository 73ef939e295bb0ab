"""Audit rows made the way production makes them: through the allocation services.

ICWS is replaced at one seam (the client object); nothing is enqueued.
"""

from __future__ import annotations

from unittest import mock

import pytest

from dashboard.allocations import execute, submit
from dashboard.allocations.models import AllocationJob
from icws_client import IcwsClient


@pytest.fixture(autouse=True)
def no_enqueue():
    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True) as enqueue:
        yield enqueue


@pytest.fixture
def icws_stub():
    return mock.create_autospec(IcwsClient, instance=True)


def run_move(actor, client, *, agents=("a1",), ins=("{C2}",), outs=("{C1}",), reason=""):
    """Submit and execute one move; returns the job refreshed from the database."""
    job, _ = submit.job_submit(
        actor=actor,
        agent_ids=list(agents),
        campaign_ids_in=list(ins),
        campaign_ids_out=list(outs),
        reason=reason,
    )
    execute.job_execute(job_id=job.pk, client=client)
    return AllocationJob.objects.get(pk=job.pk)


@pytest.fixture
def moved(mover, dir_small, icws_stub):
    """a1 and a2 moved from Renewals {C1} to Winback {C2}: requested, started, succeeded."""
    return run_move(mover, icws_stub, agents=("a1", "a2"), reason="Winback short-staffed")
