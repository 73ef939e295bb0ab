"""The move preview warns before a move that may not take (issue 13 item 6), and a finished job
says "accepted by CIC", not "applied"."""

from __future__ import annotations

from urllib.parse import quote

from dashboard.allocations.explain import outcome_note
from dashboard.allocations.models import AllocationJob
from dashboard.board.templatetags.outcomes import status_words
from dashboard.directory.models import Agent


def _preview(client, mover, agent="a1"):
    client.force_login(mover)
    pick = f"{quote('{C1}', safe='')}/{agent}/0"
    return client.get("/moves/preview", {"pick": [pick], "target": "{C2}"}).content.decode()


def test_no_live_client_is_warned(client, mover, dir_small):
    Agent.objects.filter(id="a1").update(has_live_client=False)
    assert "No live CIC client: Agent 1" in _preview(client, mover)


def test_unknown_or_live_client_gives_no_such_warning(client, mover, dir_small):
    assert "No live CIC client" not in _preview(client, mover)  # never heard: no claim
    Agent.objects.filter(id="a1").update(has_live_client=True)
    assert "No live CIC client" not in _preview(client, mover)


def test_logon_campaign_right_is_warned(client, mover, dir_small):
    Agent.objects.filter(id="a1").update(has_logon_campaign_right=True)
    assert "Holds the Logon Campaign right: Agent 1" in _preview(client, mover)


def test_a_succeeded_job_reads_accepted_by_cic_and_names_agents_without_a_client(mover, dir_small):
    Agent.objects.filter(id="a2").update(has_live_client=False)
    job = AllocationJob(
        requested_by=mover, agent_ids=["a1", "a2"], status=AllocationJob.Status.SUCCEEDED
    )
    assert status_words(job) == "Accepted by CIC"
    note = outcome_note(job)
    assert "accepted, not confirmed applied" in note
    assert "No live CIC client when last seen: Agent 2" in note
    assert "Presence is stale" in note  # no listener has run in this test
    job.status = AllocationJob.Status.FAILED
    assert outcome_note(job) is None and status_words(job) == "Failed"
