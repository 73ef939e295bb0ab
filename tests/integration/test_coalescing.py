"""Coalescing end to end: queued jobs with the same campaigns go to ICWS as one call, each job
keeping its own outcome and audit rows; a 400 for one job's agent fails only that job.

The jobs are submitted in one transaction, so all are queued (and their messages published)
at once when the worker takes the first: what a burst of moves between two campaigns looks like.
"""

from __future__ import annotations

from django.db import transaction

from dashboard.allocations.models import AllocationJob
from dashboard.allocations.submit import job_submit
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent
from dashboard.directory.selectors import roster_of
from tests.integration.conftest import pick_move, sim_moves, wait_terminal

Status = AllocationJob.Status


def _submit_together(supervisor, agent_ids, source, target):
    with transaction.atomic():
        return [
            job_submit(
                actor=supervisor,
                agent_ids=[agent],
                campaign_ids_in=[target],
                campaign_ids_out=[source],
            )[0]
            for agent in agent_ids
        ]


def _kinds(job):
    return list(AuditEvent.objects.filter(job=job).order_by("id").values_list("kind", flat=True))


def _allocate_calls(simulator, agent_ids):
    return [m for m in sim_moves(simulator) if set(m["agentIds"]) & set(agent_ids)]


def test_coalesced_jobs_each_get_their_own_outcome_and_audit_rows(
    directory, worker, supervisor, simulator
):
    agents, source, target = pick_move(directory, count=6)
    jobs = _submit_together(supervisor, agents, source, target)
    for job in jobs:
        wait_terminal(job)
    simulator.wait_idle()

    assert [j.status for j in jobs] == [Status.SUCCEEDED] * 6
    calls = _allocate_calls(simulator, agents)
    assert len(calls) < len(jobs), "some jobs were sent together"
    applied = [a for call in calls for a in call["agentIds"]]
    assert sorted(applied) == sorted(agents), "each agent applied exactly once"
    membership = simulator.state()["membership"]
    for job, agent in zip(jobs, agents, strict=True):
        assert _kinds(job) == ["requested", "started", "succeeded"], job.pk
        assert target in membership[agent] and source not in membership[agent]
        assert target in roster_of([agent])[agent]
        done = AuditEvent.objects.get(job=job, kind="succeeded")
        assert done.agent_ids == [agent], "a job's row names its own agents only"
        assert done.roster_after == {agent: roster_of([agent])[agent]}
        assert Agent.objects.get(pk=agent).held_by_job is None
        job.refresh_from_db()
        assert job.lease_token == 1 and job.attempts == 1
    together = AuditEvent.objects.filter(job__in=jobs, kind="succeeded").exclude(details={})
    assert together.exists()
    for row in together:
        others = set(row.details["sent_with"])
        assert row.job_id not in others and others <= {j.pk for j in jobs}
        started = AuditEvent.objects.get(job_id=row.job_id, kind="started")
        assert "sent in one allocate-agents call with job(s)" in started.message


def test_a_400_for_one_jobs_agent_fails_only_that_job(directory, worker, supervisor, simulator):
    agents, source, target = pick_move(directory, count=5)
    # An agent the directory still lists but ICWS no longer knows: its id gets a 400.
    real = Agent.objects.get(pk=agents[0])
    ghost = Agent.objects.create(id="ghost-agent-id", name="Gone Agent", active=True)
    ghost.workgroups.set(real.workgroups.all())
    mixed = [*agents[:2], ghost.pk, *agents[2:]]

    jobs = _submit_together(supervisor, mixed, source, target)
    for job in jobs:
        wait_terminal(job)
    simulator.wait_idle()

    by_agent = {j.agent_ids[0]: j for j in jobs}
    bad = by_agent.pop(ghost.pk)
    assert bad.status == Status.FAILED
    assert bad.error_status == 400 and "ghost-agent-id" in bad.error_message
    assert _kinds(bad) == ["requested", "started", "failed"]
    assert Agent.objects.get(pk=ghost.pk).held_by_job is None
    for agent, job in by_agent.items():
        assert job.status == Status.SUCCEEDED, (agent, job.error_message)
        assert _kinds(job) == ["requested", "started", "succeeded"]
    applied = [a for call in _allocate_calls(simulator, agents) for a in call["agentIds"]]
    assert sorted(applied) == sorted(agents), "every good agent applied once, after the split"
