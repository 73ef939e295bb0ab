"""An ICWS error of any size still leaves the job failed with its error (issue 13 item 2)."""

from __future__ import annotations

from unittest import mock

import pytest

from dashboard.allocations import execute
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.submit import job_submit
from icws_client.exceptions import error_for_status

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body",
    [
        {"errorId": "e" * 5000, "message": "No licence", "errorCode": 2**70},
        {"errorId": "x\n\x00y", "message": "m" * 100_000, "errorCode": -(2**64)},
        {"errorId": ["not", "a", "string"], "message": "odd"},
    ],
)
def test_a_huge_or_odd_error_still_fails_the_job_with_its_error(mover, dir_small, body):
    with mock.patch("dashboard.allocations.submit._enqueue_on_commit", autospec=True):
        job, _ = job_submit(actor=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"])
    client = mock.Mock()
    client.allocate_agents.side_effect = error_for_status(403, body)
    execute.job_execute(job_id=job.pk, client=client)
    job.refresh_from_db()
    assert job.status == AllocationJob.Status.FAILED
    assert job.error_status == 403
    assert len(job.error_id) <= 200
    if isinstance(body["errorId"], str):
        assert job.error_id[:50] == body["errorId"][:50].replace("\x00", "\ufffd")
    assert job.error_code is None or abs(job.error_code) < 2**63
