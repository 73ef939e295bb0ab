"""Jobs end to end: service -> Redis -> Celery worker -> client -> simulator (real HTTP)."""

from __future__ import annotations

import threading

import pytest

from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.allocations.submit import job_submit
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent
from dashboard.directory.selectors import roster_of
from tests.integration.conftest import pick_move, sim_moves, wait_for, wait_terminal

Status = AllocationJob.Status


def _kinds(job):
    return list(AuditEvent.objects.filter(job=job).order_by("id").values_list("kind", flat=True))


def _moves_for(simulator, agent_id):
    return [m for m in sim_moves(simulator) if agent_id in m["agentIds"]]


def test_a_move_succeeds_and_updates_roster_ICWS_and_audit(
    directory, worker, supervisor, simulator
):
    agents, source, target = pick_move(directory, count=2)
    job, created = job_submit(
        actor=supervisor,
        agent_ids=agents,
        campaign_ids_in=[target],
        campaign_ids_out=[source],
        reason="Renewals ran dry",
    )
    assert created
    wait_terminal(job)
    assert job.status == Status.SUCCEEDED, job.error_message
    simulator.wait_idle()
    membership = simulator.state()["membership"]
    for agent in agents:
        assert target in membership[agent] and source not in membership[agent]
        assert target in roster_of([agent])[agent]
        assert source not in roster_of([agent])[agent]
    assert _kinds(job) == ["requested", "started", "succeeded"]
    done = AuditEvent.objects.get(job=job, kind="succeeded")
    assert done.actor_username == "sup"
    assert done.reason == "Renewals ran dry"
    assert all(source in done.roster_before[a] for a in agents)
    assert all(target in done.roster_after[a] for a in agents)


@pytest.mark.parametrize(
    ("status", "error_cls_words"),
    [(400, "rejected"), (403, "licence")],
)
def test_permanent_icws_errors_fail_at_once_with_the_icws_message(
    directory, worker, supervisor, simulator, status, error_cls_words
):
    agents, source, target = pick_move(directory)
    if status == 403:
        simulator.set_faults(licence=False)
    else:
        simulator.set_faults(
            status=400, count=1, paths="allocate-agents", message="Campaign is being rebuilt"
        )
    job, _ = job_submit(
        actor=supervisor, agent_ids=agents, campaign_ids_in=[target], campaign_ids_out=[source]
    )
    wait_terminal(job)
    assert job.status == Status.FAILED
    assert job.error_status == status
    assert job.attempts == 1, "permanent errors are not retried"
    if status == 400:
        assert job.error_message == "Campaign is being rebuilt"
    else:
        assert "Dialer Add-on License" in job.error_message
    assert _kinds(job) == ["requested", "started", "failed"]
    failed = AuditEvent.objects.get(job=job, kind="failed")
    assert failed.icws_status == status
    assert source in roster_of(agents)[agents[0]], "the roster is unchanged on failure"


@pytest.mark.parametrize("status", [500, 503])
def test_transient_errors_are_retried_then_succeed(
    directory, worker, supervisor, simulator, status
):
    agents, source, target = pick_move(directory)
    simulator.set_faults(status=status, count=2, paths="allocate-agents")
    job, _ = job_submit(
        actor=supervisor, agent_ids=agents, campaign_ids_in=[target], campaign_ids_out=[source]
    )
    wait_terminal(job)
    assert job.status == Status.SUCCEEDED
    assert job.attempts == 3
    assert _kinds(job) == [
        "requested",
        "started",
        "retry",
        "started",
        "retry",
        "started",
        "succeeded",
    ]
    retry = AuditEvent.objects.filter(job=job, kind="retry").first()
    assert retry.icws_status == status


def test_retries_are_capped_and_the_job_fails_with_the_last_error(
    directory, worker, supervisor, simulator
):
    agents, _source, target = pick_move(directory)
    simulator.set_faults(status=500, count=50, paths="allocate-agents", message="Dialer down")
    job, _ = job_submit(actor=supervisor, agent_ids=agents, campaign_ids_in=[target])
    wait_terminal(job)
    assert job.status == Status.FAILED
    assert job.attempts == 3  # ALLOCATION_MAX_ATTEMPTS in engine_settings
    assert job.error_kind == AllocationJob.ErrorKind.RETRIES_EXHAUSTED
    assert "Dialer down" in job.error_message


def test_expired_session_is_renewed_and_the_move_succeeds(directory, worker, supervisor, simulator):
    agents, source, target = pick_move(directory)
    from dashboard.icws import get_client

    get_client().connect()
    simulator.set_faults(expire_sessions=True)
    job, _ = job_submit(
        actor=supervisor, agent_ids=agents, campaign_ids_in=[target], campaign_ids_out=[source]
    )
    wait_terminal(job)
    assert job.status == Status.SUCCEEDED
    assert job.attempts == 1


def test_timeouts_are_transient(directory, worker, supervisor, simulator, engine_settings):
    engine_settings.ICWS_TIMEOUT = 0.3
    from dashboard.icws import reset_client

    reset_client()
    agents, _source, target = pick_move(directory)
    simulator.set_faults(latency_ms=1500, count=1, paths="allocate-agents")
    job, _ = job_submit(actor=supervisor, agent_ids=agents, campaign_ids_in=[target])
    wait_terminal(job)
    assert job.status == Status.SUCCEEDED
    # The timed-out send reached ICWS and was applied after the client gave up; the retry sends
    # it again. Both are on ICWS's side, and the audit row says the first one may have counted.
    retry = AuditEvent.objects.get(job=job, kind="retry")
    assert retry.details == {"batch": 0, "outcome_unknown": True}
    assert "may have applied the timed-out send" in retry.message
    # The delayed first request is applied once its 1.5 s are up (not before: it was held).
    wait_for(
        lambda: len(_moves_for(simulator, agents[0])) == 2, what="the timed-out send applied too"
    )
    simulator.wait_idle()
    assert len(_moves_for(simulator, agents[0])) == 2
    assert target in simulator.state()["membership"][agents[0]]


def test_large_move_is_split_into_batches(
    directory, worker, supervisor, simulator, engine_settings
):
    engine_settings.ALLOCATION_BATCH_SIZE = 4
    state = directory
    target = next(c["id"] for c in state["campaigns"] if c["state"] == "on")
    agents = sorted(Agent.objects.values_list("id", flat=True))[:10]
    job, _ = job_submit(actor=supervisor, agent_ids=agents, campaign_ids_in=[target])
    assert job.batches.count() == 3
    wait_terminal(job)
    assert job.status == Status.SUCCEEDED
    assert list(job.batches.values_list("status", flat=True)) == ["accepted"] * 3
    simulator.wait_idle()
    assert len([m for m in sim_moves(simulator) if set(m["agentIds"]) <= set(agents)]) == 3


def test_partial_success_is_recorded_per_batch(
    directory, worker, supervisor, simulator, engine_settings
):
    from dashboard.icws import reset_client

    engine_settings.ALLOCATION_BATCH_SIZE = 3
    engine_settings.ICWS_TIMEOUT = 5.0  # the held sends below must not time out
    reset_client()
    target = next(c["id"] for c in directory["campaigns"] if c["state"] == "on")
    agents = sorted(Agent.objects.values_list("id", flat=True))[:6]
    # The first batch goes through; the second meets a permanent 403. Every send is held 1 s
    # and the licence is checked after the hold, so the licence goes while the second send is
    # held: the test has that second to see the first batch accepted. Held from before the job
    # is queued: set after, a quick worker had sent both batches unheld.
    simulator.set_faults(latency_ms=1000, paths="allocate-agents")
    job, _ = job_submit(actor=supervisor, agent_ids=agents, campaign_ids_in=[target])

    def first_batch_accepted():
        return JobBatch.objects.filter(job=job, index=0, status="accepted").exists()

    wait_for(first_batch_accepted, what="first batch")
    simulator.set_faults(licence=False, latency_ms=0)
    wait_terminal(job)
    assert job.status == Status.FAILED
    assert "1 of 2 batches were applied" in job.error_message
    assert list(job.batches.values_list("status", flat=True)) == ["accepted", "failed"]


def test_duplicate_submit_with_one_key_makes_one_job(directory, worker, supervisor, simulator):
    agents, source, target = pick_move(directory)
    kwargs = dict(
        actor=supervisor,
        agent_ids=agents,
        campaign_ids_in=[target],
        campaign_ids_out=[source],
        idempotency_key="drop-42",
    )
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(job_submit(**kwargs))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({job.pk for job, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    job = wait_terminal(results[0][0])
    assert job.status == Status.SUCCEEDED
    simulator.wait_idle()
    assert len(_moves_for(simulator, agents[0])) == 1


def test_concurrent_jobs_on_one_agent_do_not_interleave(directory, worker, supervisor, simulator):
    agents, source, target = pick_move(directory)
    third = next(
        c["id"]
        for c in directory["campaigns"]
        if c["state"] == "on" and c["id"] not in (source, target)
    )
    simulator.set_faults(latency_ms=400, paths="allocate-agents")
    job1, _ = job_submit(
        actor=supervisor, agent_ids=agents, campaign_ids_in=[target], campaign_ids_out=[source]
    )
    job2, _ = job_submit(
        actor=supervisor, agent_ids=agents, campaign_ids_in=[third], campaign_ids_out=[target]
    )
    wait_terminal(job1)
    wait_terminal(job2)
    assert job1.status == job2.status == Status.SUCCEEDED
    b1, b2 = job1.batches.get(), job2.batches.get()
    first, second = sorted([b1, b2], key=lambda b: b.sent_at)
    assert second.sent_at >= first.finished_at, "the second call waited for the first"
    final = roster_of(agents)[agents[0]]
    if second == b2:
        assert third in final and target not in final
    else:  # job 2 went first (into third, out of target); job 1 then put them into target
        assert final == sorted([third, target])


def test_a_move_built_on_a_stale_roster_is_flagged_not_applied(
    directory, worker, supervisor, simulator
):
    agents, source, target = pick_move(directory)
    seen = {agents[0]: Agent.objects.get(pk=agents[0]).roster_version}
    simulator.set_faults(latency_ms=300, paths="allocate-agents")
    job1, _ = job_submit(
        actor=supervisor,
        agent_ids=agents,
        campaign_ids_in=[target],
        campaign_ids_out=[source],
        expected_versions=seen,
    )
    job2, _ = job_submit(
        actor=supervisor, agent_ids=agents, campaign_ids_out=[source], expected_versions=seen
    )
    wait_terminal(job1)
    wait_terminal(job2)
    statuses = sorted([job1.status, job2.status])
    assert statuses == [Status.FAILED, Status.SUCCEEDED]
    loser = job1 if job1.status == Status.FAILED else job2
    assert loser.error_kind == AllocationJob.ErrorKind.CONFLICT
    assert "roster changed" in loser.error_message
    name = Agent.objects.get(id=agents[0]).name
    assert f"{name} ({agents[0]})" in loser.error_message  # by name, with the id
    simulator.wait_idle()
    assert len(_moves_for(simulator, agents[0])) == 1, "the stale move never reached ICWS"


def test_gone_after_the_reconnect_fails_at_once(directory, worker, supervisor, simulator):
    """410 once: the client reconnects and repeats; 410 again is permanent (REFERENCE 2.4)."""
    agents, source, target = pick_move(directory)
    simulator.set_faults(status=410, count=2, paths="allocate-agents")
    job, _ = job_submit(
        actor=supervisor, agent_ids=agents, campaign_ids_in=[target], campaign_ids_out=[source]
    )
    wait_terminal(job)
    assert job.status == Status.FAILED
    assert job.error_status == 410
    assert job.attempts == 1, "410 after a reconnect is not retried"
    assert _kinds(job) == ["requested", "started", "failed"]
    assert _moves_for(simulator, agents[0]) == []
    assert source in roster_of(agents)[agents[0]]


def test_connection_errors_are_retried_until_icws_is_back(directory, worker, supervisor, simulator):
    agents, source, target = pick_move(directory)
    simulator.set_faults(down=True)
    job, _ = job_submit(
        actor=supervisor, agent_ids=agents, campaign_ids_in=[target], campaign_ids_out=[source]
    )
    wait_for(lambda: AuditEvent.objects.filter(job=job, kind="retry").exists())
    retry = AuditEvent.objects.filter(job=job, kind="retry").first()
    assert retry.icws_status is None  # no HTTP answer at all
    simulator.set_faults(down=False)
    wait_terminal(job)
    assert job.status == Status.SUCCEEDED
    simulator.wait_idle()
    assert len(_moves_for(simulator, agents[0])) == 1
