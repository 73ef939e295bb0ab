"""The allocation services, with ICWS replaced at one seam (the client object)."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from dashboard.accounts.models import SupervisorScope
from dashboard.allocations import execute, sweep, tasks
from dashboard.allocations.errors import MoveConflict, MoveRefused
from dashboard.allocations.models import AllocationJob, JobBatch
from dashboard.allocations.submit import job_cancel, job_retry, job_submit
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent
from dashboard.directory.selectors import roster_of
from icws_client import IcwsClient, IcwsForbidden, IcwsServerError, IcwsTimeout
from tests.dashboard.conftest import user_with_role

Status = AllocationJob.Status


@pytest.fixture(autouse=True)
def no_enqueue():
    # One mock for both ways a job is published: on submit's commit, and by the sweep task.
    with (
        mock.patch("dashboard.allocations.submit._enqueue_on_commit", autospec=True) as enqueue,
        mock.patch("dashboard.allocations.tasks.enqueue_job", new=enqueue),
    ):
        yield enqueue


@pytest.fixture
def icws_stub():
    return mock.create_autospec(IcwsClient, instance=True)


def submit(user, **kw):
    kw.setdefault("agent_ids", ["a1"])
    kw.setdefault("campaign_ids_in", ["{C2}"])
    kw.setdefault("campaign_ids_out", ["{C1}"])
    return job_submit(actor=user, **kw)


def kinds(job):
    return list(AuditEvent.objects.filter(job=job).order_by("id").values_list("kind", flat=True))


class TestSubmit:
    def test_it_queues_a_job_with_batches_and_an_audit_row(
        self, mover, dir_small, settings, no_enqueue, django_capture_on_commit_callbacks
    ):
        settings.ALLOCATION_BATCH_SIZE = 1
        job, created = submit(mover, agent_ids=["a1", "a2"], reason="Winback short-staffed")
        assert created
        assert job.status == Status.QUEUED
        assert list(job.batches.values_list("agent_ids", flat=True)) == [["a1"], ["a2"]]
        assert kinds(job) == ["requested"]
        row = AuditEvent.objects.get(job=job)
        assert row.roster_before == {"a1": ["{C1}"], "a2": ["{C1}"]}
        assert row.reason == "Winback short-staffed"
        # An auditor reads campaigns by name; the id stays beside it (names can repeat).
        assert row.message == "Move 2 agents into Winback ({C2}), out of Renewals ({C1})"
        no_enqueue.assert_called_once_with(job.pk)

    def test_same_key_returns_the_same_job(self, mover, dir_small, no_enqueue):
        job, created = submit(mover, idempotency_key="k1")
        again, created_again = submit(mover, idempotency_key="k1")
        assert (created, created_again) == (True, False)
        assert again.pk == job.pk
        assert AllocationJob.objects.count() == 1
        assert no_enqueue.call_count == 1

    def test_a_reason_keeps_tabs_newlines_and_any_script(self, mover, dir_small):
        job, _ = submit(mover, reason="Ruta\tsin llamadas\nVertrieb Süd — 空席なし")
        assert job.reason == "Ruta\tsin llamadas\nVertrieb Süd — 空席なし"

    def test_key_reused_for_another_move_is_a_conflict(self, mover, dir_small):
        submit(mover, idempotency_key="k1")
        with pytest.raises(MoveRefused) as info:
            submit(mover, idempotency_key="k1", agent_ids=["a2"])
        assert info.value.code == "conflict"

    @pytest.mark.parametrize(
        ("kw", "field"),
        [
            ({"agent_ids": []}, "agent_ids"),
            ({"agent_ids": "a1"}, "agent_ids"),
            ({"agent_ids": ["a1", "a1"]}, "agent_ids"),
            ({"agent_ids": ["nobody"]}, "agent_ids"),
            ({"agent_ids": [3]}, "agent_ids"),
            ({"campaign_ids_in": [], "campaign_ids_out": []}, "campaign_ids_in"),
            ({"campaign_ids_in": ["{NOPE}"]}, "campaign_ids_in"),
            ({"campaign_ids_in": ["{C1}"], "campaign_ids_out": ["{C1}"]}, "campaign_ids_out"),
            ({"reason": "x" * 501}, "reason"),
            ({"reason": "moved \u202eevil"}, "reason"),
            ({"reason": "bell \x07"}, "reason"),
            ({"expected_versions": {"a1": "zero"}}, "expected_versions"),
            ({"expected_versions": {"a9": 0}}, "expected_versions"),
        ],
    )
    def test_bad_input_is_refused_by_field_and_nothing_is_queued(
        self, mover, dir_small, kw, field, no_enqueue
    ):
        with pytest.raises(MoveRefused) as info:
            submit(mover, **kw)
        assert info.value.code == "invalid"
        assert field in info.value.fields
        assert AllocationJob.objects.count() == 0
        no_enqueue.assert_not_called()

    def test_a_user_without_the_role_is_refused_and_audited(self, django_user_model, dir_small):
        viewer = django_user_model.objects.create_user("viewer")
        with pytest.raises(MoveRefused) as info:
            submit(viewer)
        assert info.value.code == "forbidden"
        refused = AuditEvent.objects.get(kind="refused")
        assert refused.actor_username == "viewer"
        assert refused.agent_ids == ["a1"]
        assert AllocationJob.objects.count() == 0

    def test_a_scoped_supervisor_cannot_move_agents_of_other_workgroups(self, mover, dir_small):
        scope = SupervisorScope.objects.create(user=mover)
        scope.workgroups.add(dir_small["groups"][0])  # Sales: a1, a2
        submit(mover, agent_ids=["a1"])
        with pytest.raises(MoveRefused) as info:
            submit(mover, agent_ids=["a1", "a3"], campaign_ids_out=[])
        assert info.value.code == "forbidden"
        assert "a3" in info.value.message

    def test_a_move_on_a_stale_roster_is_refused_as_a_conflict(self, mover, dir_small):
        Agent.objects.filter(pk="a1").update(roster_version=3)
        with pytest.raises(MoveRefused) as info:
            submit(mover, expected_versions={"a1": 2})
        assert info.value.code == "conflict"
        assert AuditEvent.objects.filter(kind="refused").count() == 1


class TestExecute:
    def test_success_updates_roster_versions_and_audit(self, mover, dir_small, icws_stub):
        job, _ = submit(mover, agent_ids=["a1", "a2"])
        outcome = execute.job_execute(job_id=job.pk, client=icws_stub)
        assert outcome.status == Status.SUCCEEDED
        icws_stub.allocate_agents.assert_called_once_with(["a1", "a2"], ["{C2}"], ["{C1}"])
        assert roster_of(["a1", "a2"]) == {"a1": ["{C2}"], "a2": ["{C2}"]}
        assert set(
            Agent.objects.filter(pk__in=["a1", "a2"]).values_list("roster_version", flat=True)
        ) == {1}
        assert Agent.objects.filter(held_by_job__isnull=False).count() == 0
        assert kinds(job) == ["requested", "started", "succeeded"]
        succeeded = AuditEvent.objects.get(job=job, kind="succeeded")
        assert succeeded.message == (
            "Move 2 agents into Winback ({C2}), out of Renewals ({C1}) accepted by CIC"
        )
        done = AuditEvent.objects.get(job=job, kind="succeeded")
        assert done.roster_before == {"a1": ["{C1}"], "a2": ["{C1}"]}
        assert done.roster_after == {"a1": ["{C2}"], "a2": ["{C2}"]}

    def test_a_finished_job_is_never_run_again(self, mover, dir_small, icws_stub):
        job, _ = submit(mover)
        execute.job_execute(job_id=job.pk, client=icws_stub)
        execute.job_execute(job_id=job.pk, client=icws_stub)
        assert icws_stub.allocate_agents.call_count == 1

    def test_a_job_leased_by_another_worker_is_left_alone(self, mover, dir_small, icws_stub):
        job, _ = submit(mover)
        AllocationJob.objects.filter(pk=job.pk).update(
            status=Status.RUNNING, lease_expires_at=timezone.now() + timedelta(minutes=1)
        )
        outcome = execute.job_execute(job_id=job.pk, client=icws_stub)
        assert outcome.notes == ["running elsewhere"]
        icws_stub.allocate_agents.assert_not_called()

    def test_a_batch_whose_send_was_cut_off_is_resent_and_audited(
        self, mover, dir_small, icws_stub
    ):
        """Found by the worker-kill drill: the worker died inside the ICWS call."""
        job, _ = submit(mover)
        JobBatch.objects.filter(job=job).update(status=JobBatch.Status.SENDING, attempts=1)
        AllocationJob.objects.filter(pk=job.pk).update(
            status=Status.RUNNING, attempts=1, lease_expires_at=timezone.now() - timedelta(1)
        )
        outcome = execute.job_execute(job_id=job.pk, client=icws_stub)
        assert outcome.status == Status.SUCCEEDED
        icws_stub.allocate_agents.assert_called_once()
        resend = AuditEvent.objects.get(job=job, kind="retry")
        assert resend.details == {"batch": 0, "outcome_unknown": True}
        assert "outcome was never recorded" in resend.message
        assert kinds(job) == ["requested", "started", "retry", "succeeded"]

    def test_permanent_error_fails_with_the_icws_message(self, mover, dir_small, icws_stub):
        icws_stub.allocate_agents.side_effect = IcwsForbidden(
            "No Dialer Add-on licence", status=403, error_id="error.noLicense"
        )
        job, _ = submit(mover)
        outcome = execute.job_execute(job_id=job.pk, client=icws_stub)
        job.refresh_from_db()
        assert outcome.status == job.status == Status.FAILED
        assert (job.error_status, job.error_id) == (403, "error.noLicense")
        assert job.error_message == "No Dialer Add-on licence"
        assert roster_of(["a1"]) == {"a1": ["{C1}"]}
        assert Agent.objects.get(pk="a1").held_by_job is None

    def test_transient_error_asks_for_a_retry_then_gives_up(
        self, mover, dir_small, icws_stub, settings
    ):
        settings.ALLOCATION_MAX_ATTEMPTS = 2
        settings.ALLOCATION_RETRY_BASE_SECONDS = 4
        icws_stub.allocate_agents.side_effect = IcwsServerError("boom", status=500)
        job, _ = submit(mover)
        first = execute.job_execute(job_id=job.pk, client=icws_stub)
        assert first.status == Status.RETRYING
        assert 2 <= first.retry_in <= 4
        # Asked to run before its time, the job only says how long is left.
        early = execute.job_execute(job_id=job.pk, client=icws_stub)
        assert early.retry_in is not None
        assert icws_stub.allocate_agents.call_count == 1
        AllocationJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
        second = execute.job_execute(job_id=job.pk, client=icws_stub)
        job.refresh_from_db()
        assert second.status == Status.FAILED
        assert job.error_kind == AllocationJob.ErrorKind.RETRIES_EXHAUSTED
        assert kinds(job) == ["requested", "started", "retry", "started", "failed"]

    def test_a_last_send_that_timed_out_fails_saying_icws_may_have_applied_it(
        self, mover, dir_small, icws_stub, settings
    ):
        settings.ALLOCATION_MAX_ATTEMPTS = 1
        icws_stub.allocate_agents.side_effect = IcwsTimeout("No answer within 10 s")
        job, _ = submit(mover)
        execute.job_execute(job_id=job.pk, client=icws_stub)
        job.refresh_from_db()
        assert job.status == Status.FAILED
        assert "ICWS may have applied the last send" in job.error_message
        failed = AuditEvent.objects.get(job=job, kind="failed")
        assert failed.details == {"batch": 0, "outcome_unknown": True}
        assert roster_of(["a1"]) == {"a1": ["{C1}"]}  # the roster records only what ICWS took

    def test_stale_roster_at_run_time_fails_as_conflict_without_calling_icws(
        self, mover, dir_small, icws_stub
    ):
        job, _ = submit(mover, expected_versions={"a1": 0})
        Agent.objects.filter(pk="a1").update(roster_version=1)  # someone moved a1 meanwhile
        outcome = execute.job_execute(job_id=job.pk, client=icws_stub)
        job.refresh_from_db()
        assert outcome.status == Status.FAILED
        assert job.error_kind == AllocationJob.ErrorKind.CONFLICT
        icws_stub.allocate_agents.assert_not_called()

    def test_an_agent_held_by_a_running_job_makes_the_next_job_wait(
        self, mover, dir_small, icws_stub
    ):
        first, _ = submit(mover)
        second, _ = submit(mover, campaign_ids_in=["{C3}"], campaign_ids_out=[])
        AllocationJob.objects.filter(pk=first.pk).update(status=Status.RUNNING)
        Agent.objects.filter(pk="a1").update(held_by_job=first)
        outcome = execute.job_execute(job_id=second.pk, client=icws_stub)
        assert outcome.status == Status.RETRYING
        assert "waiting for job" in outcome.notes[0]
        icws_stub.allocate_agents.assert_not_called()
        second.refresh_from_db()
        assert second.attempts == 0, "waiting is not an attempt"


class TestSweep:
    def test_a_running_job_whose_lease_expired_is_requeued(
        self, mover, dir_small, no_enqueue, django_capture_on_commit_callbacks
    ):
        job, _ = submit(mover)
        no_enqueue.reset_mock()
        AllocationJob.objects.filter(pk=job.pk).update(
            status=Status.RUNNING, lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        assert tasks.sweep_jobs_task() == [job.pk]  # the sweep finds it, the task publishes it
        job.refresh_from_db()
        assert job.status == Status.QUEUED
        no_enqueue.assert_called_once_with(job.pk)
        assert AuditEvent.objects.filter(job=job, kind="retry").exists()

    def test_a_queued_job_never_picked_up_is_requeued_once_per_deadline(
        self, mover, dir_small, no_enqueue, settings
    ):
        job, _ = submit(mover)
        no_enqueue.reset_mock()
        AllocationJob.objects.filter(pk=job.pk).update(
            next_attempt_at=timezone.now()
            - timedelta(seconds=settings.ALLOCATION_STUCK_AFTER_SECONDS + 5)
        )
        assert sweep.jobs_sweep() == [job.pk]
        assert sweep.jobs_sweep() == [], "not again before another deadline passes"

    def test_healthy_jobs_are_left_alone(self, mover, dir_small, no_enqueue):
        job, _ = submit(mover)
        AllocationJob.objects.filter(pk=job.pk).update(
            status=Status.RUNNING, lease_expires_at=timezone.now() + timedelta(minutes=1)
        )
        assert sweep.jobs_sweep() == []


def test_cancel_only_before_sending(mover, dir_small):
    job, _ = submit(mover)
    job_cancel(job_id=job.pk, actor=mover)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED
    assert set(job.batches.values_list("status", flat=True)) == {JobBatch.Status.SKIPPED}
    with pytest.raises(MoveRefused):
        job_cancel(job_id=job.pk, actor=mover)


def test_audit_rows_cannot_be_changed_or_deleted(mover, dir_small):
    from dashboard.audit.models import AppendOnlyError

    submit(mover)
    row = AuditEvent.objects.get()
    row.message = "edited"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(message="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize("action", ["cancel", "retry"])
def test_a_forbidden_cancel_or_retry_is_refused_and_audited(
    action, mover, dir_small, django_user_model
):
    job, _ = submit(mover)
    if action == "retry":
        AllocationJob.objects.filter(pk=job.pk).update(status=Status.FAILED)
    AllocationJob.objects.filter(pk=job.pk).update(reason="the mover's reason", request_id="r-1")
    viewer = django_user_model.objects.create_user("viewer")
    with pytest.raises(MoveRefused) as info:
        {"cancel": job_cancel, "retry": job_retry}[action](
            job_id=job.pk, actor=viewer, request_id="r-2"
        )
    assert info.value.code == "forbidden"
    refused = AuditEvent.objects.get(kind="refused")
    assert refused.actor_username == "viewer"
    assert refused.job_id == job.pk
    assert refused.message.startswith(f"{action.capitalize()} refused: ")
    assert (refused.reason, refused.request_id) == ("", "r-2")  # the refusal's, not the job's
    assert AllocationJob.objects.count() == 1
    job.refresh_from_db()
    assert job.status == (Status.FAILED if action == "retry" else Status.QUEUED)


def test_a_failed_job_is_retried_once_whoever_retries_it(mover, dir_small, django_user_model):
    job, _ = submit(mover)
    AllocationJob.objects.filter(pk=job.pk).update(status=Status.FAILED)
    retry = job_retry(job_id=job.pk, actor=mover)
    assert job_retry(job_id=job.pk, actor=mover).pk == retry.pk  # the same user: the same retry
    other = user_with_role(django_user_model, "second", "supervisor")
    with pytest.raises(MoveConflict) as info:
        job_retry(job_id=job.pk, actor=other)
    assert f"already retried as job {retry.pk} by {mover.username}" in str(info.value)
    assert AllocationJob.objects.count() == 2


def test_an_unsupported_dialer_fails_with_its_class_stored_and_is_not_offered_retry(
    mover, dir_small, icws_stub
):
    from dashboard.allocations.explain import explain_job
    from icws_client import IcwsUnsupportedFeature

    job, _ = submit(mover)
    icws_stub.allocate_agents.side_effect = IcwsUnsupportedFeature(
        "allocate-agents needs ICWS feature dialer 7; the server has dialer 6"
    )
    assert execute.job_execute(job_id=job.pk, client=icws_stub).status == Status.FAILED
    job.refresh_from_db()
    assert (job.error_class, job.error_transient) == ("IcwsUnsupportedFeature", False)
    assert icws_stub.allocate_agents.call_count == 1, "not retried: it cannot succeed later"
    explanation = explain_job(job)
    assert "upgrade" in explanation.headline
    assert not explanation.retryable


def test_a_gave_up_job_stores_a_transient_error(mover, dir_small, icws_stub, settings):
    settings.ALLOCATION_MAX_ATTEMPTS = 1
    job, _ = submit(mover)
    icws_stub.allocate_agents.side_effect = IcwsServerError("boom", status=500)
    execute.job_execute(job_id=job.pk, client=icws_stub)
    job.refresh_from_db()
    assert (job.error_class, job.error_transient) == ("IcwsServerError", True)
    assert job.error_kind == AllocationJob.ErrorKind.RETRIES_EXHAUSTED


def test_a_move_of_several_batches_with_versions_succeeds(mover, dir_small, icws_stub, settings):
    # Regression: versions were compared for every agent against the current batch's agents
    # only, so every move of more than one batch failed as a false conflict.
    settings.ALLOCATION_BATCH_SIZE = 1
    versions = {"a1": 0, "a2": 0, "a3": 0}
    job, _ = submit(
        mover, agent_ids=list(versions), campaign_ids_out=[], expected_versions=versions
    )
    assert execute.job_execute(job_id=job.pk, client=icws_stub).status == Status.SUCCEEDED
    assert icws_stub.allocate_agents.call_count == 3


def test_a_stale_agent_in_a_later_batch_is_still_a_conflict(mover, dir_small, icws_stub, settings):
    settings.ALLOCATION_BATCH_SIZE = 1
    job, _ = submit(
        mover, agent_ids=["a1", "a2"], campaign_ids_out=[], expected_versions={"a1": 0, "a2": 0}
    )
    Agent.objects.filter(pk="a2").update(roster_version=1)  # moved by someone else meanwhile
    assert execute.job_execute(job_id=job.pk, client=icws_stub).status == Status.FAILED
    job.refresh_from_db()
    assert job.error_kind == AllocationJob.ErrorKind.CONFLICT
    assert "a2" in job.error_message and "a1" not in job.error_message.split("meanwhile")[1]
    assert icws_stub.allocate_agents.call_count == 1
