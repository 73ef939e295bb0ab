"""A job of several batches run by one worker: each batch's agents read once, with their lock."""

from __future__ import annotations

from unittest import mock

import pytest

from dashboard.allocations import execute
from dashboard.allocations.submit import job_submit
from dashboard.audit.models import AuditEvent
from icws_client import IcwsClient
from tests.dashboard.conftest import statements

pytestmark = pytest.mark.postgres_too


def test_the_succeeded_row_names_every_batchs_agents_without_a_read_of_its_own(
    mover, dir_small, settings
):
    settings.ALLOCATION_BATCH_SIZE = 2
    job, _ = job_submit(actor=mover, agent_ids=["a1", "a2", "a3", "a4"], campaign_ids_in=["{C2}"])
    client = mock.create_autospec(IcwsClient, instance=True)

    with statements() as seen:
        assert execute.job_execute(job_id=job.pk, client=client).status == "succeeded"

    assert [c.args[0] for c in client.allocate_agents.call_args_list] == [
        ["a1", "a2"],
        ["a3", "a4"],
    ]
    row = AuditEvent.objects.get(job=job, kind="succeeded")
    assert row.agent_names == {f"a{i}": f"Agent {i}" for i in range(1, 5)}
    assert row.roster_after == {a: ["{C2}"] for a in ("a3", "a4")} | {
        a: ["{C1}", "{C2}"] for a in ("a1", "a2")
    }
    # The second batch's names came with its locked rows: no names query of the outcome's.
    names = 'SELECT "directory_agent"."id" AS "id", "directory_agent"."name"'
    assert not [s for s in seen if s.startswith(names)]
