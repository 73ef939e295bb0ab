"""One rule decides who may act on a job (cancel, retry, revert): a supervisor scoped to a
workgroup acts only on jobs whose agents they could move, on every path (service, board, API)."""

from __future__ import annotations

from unittest import mock

import pytest

from dashboard.accounts.models import SupervisorScope
from dashboard.allocations.access import job_access, may_act_on_job
from dashboard.allocations.errors import MoveForbidden
from dashboard.allocations.models import AllocationJob
from dashboard.allocations.revert import job_revert
from dashboard.allocations.submit import job_cancel, job_retry, job_submit
from dashboard.audit.models import AuditEvent
from tests.dashboard.api.conftest import token_for
from tests.dashboard.conftest import user_with_role

pytestmark = pytest.mark.postgres_too
Status = AllocationJob.Status


@pytest.fixture(autouse=True)
def no_enqueue():
    with mock.patch("dashboard.allocations.submit._enqueue_on_commit", autospec=True):
        yield


@pytest.fixture
def scoped(django_user_model, dir_small):
    """A supervisor who may move Sales agents (a1, a2) only."""
    user = user_with_role(django_user_model, "scoped", "supervisor")
    SupervisorScope.objects.create(user=user).workgroups.add(dir_small["groups"][0])
    return user


@pytest.fixture
def care_job(mover, dir_small):
    """A queued job of another supervisor on Care agents (a3, a4): outside the scope."""
    job, _ = job_submit(actor=mover, agent_ids=["a3", "a4"], campaign_ids_in=["{C2}"])
    return job


def test_the_rule(scoped, mover, care_job):
    assert isinstance(job_access(scoped, care_job, "cancel"), MoveForbidden)
    assert job_access(mover, care_job, "cancel") is None
    assert not may_act_on_job(scoped, care_job)
    sales, _ = job_submit(actor=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"])
    assert may_act_on_job(scoped, sales)


def test_a_scoped_supervisor_cannot_cancel_an_out_of_scope_job(scoped, care_job):
    with pytest.raises(MoveForbidden) as info:
        job_cancel(job_id=care_job.pk, actor=scoped, request_id="r-9")
    assert "outside your workgroups: a3, a4" in info.value.message
    care_job.refresh_from_db()
    assert care_job.status == Status.QUEUED
    refused = AuditEvent.objects.get(kind="refused")
    assert (refused.actor_username, refused.job_id) == ("scoped", care_job.pk)
    assert refused.message.startswith("Cancel refused: ")


def test_a_scoped_supervisor_can_cancel_an_in_scope_job(scoped, mover, dir_small):
    job, _ = job_submit(actor=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"])
    assert job_cancel(job_id=job.pk, actor=scoped).status == Status.CANCELLED


def test_a_scoped_supervisor_cannot_retry_an_out_of_scope_job(scoped, care_job):
    AllocationJob.objects.filter(pk=care_job.pk).update(status=Status.FAILED)
    with pytest.raises(MoveForbidden):
        job_retry(job_id=care_job.pk, actor=scoped)
    assert AllocationJob.objects.count() == 1
    assert AuditEvent.objects.filter(kind="refused", job=care_job).count() == 1


def test_a_scoped_supervisor_cannot_revert_an_out_of_scope_job(scoped, care_job):
    AllocationJob.objects.filter(pk=care_job.pk).update(status=Status.SUCCEEDED)
    with pytest.raises(MoveForbidden):
        job_revert(job_id=care_job.pk, actor=scoped)
    assert AllocationJob.objects.count() == 1


def test_the_api_cancel_answers_403_for_an_out_of_scope_job(client, scoped, care_job):
    response = client.post(
        f"/api/allocations/{care_job.pk}/cancel",
        headers={"Authorization": f"Token {token_for(scoped)}"},
    )
    assert response.status_code == 403, response.content
    assert "outside your workgroups" in response.json()["detail"]
    care_job.refresh_from_db()
    assert care_job.status == Status.QUEUED


@pytest.mark.parametrize("htmx", [False, True])
def test_the_board_cancel_answers_403_for_an_out_of_scope_job(client, scoped, care_job, htmx):
    client.force_login(scoped)
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(f"/jobs/{care_job.pk}/cancel", headers=headers)
    assert response.status_code == 403
    assert "outside your workgroups" in response.content.decode()
    care_job.refresh_from_db()
    assert care_job.status == Status.QUEUED


def test_the_board_retry_answers_403_for_an_out_of_scope_job(client, scoped, care_job):
    AllocationJob.objects.filter(pk=care_job.pk).update(status=Status.FAILED)
    client.force_login(scoped)
    response = client.post(f"/jobs/{care_job.pk}/retry", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert AllocationJob.objects.count() == 1


def test_the_revert_page_does_not_offer_or_accept_an_out_of_scope_revert(
    client, scoped, mover, care_job
):
    from dashboard.audit.services import audit_record

    AllocationJob.objects.filter(pk=care_job.pk).update(status=Status.SUCCEEDED)
    care_job.refresh_from_db()
    done = audit_record(kind=AuditEvent.Kind.SUCCEEDED, job=care_job, message="done")
    client.force_login(mover)
    assert f"/audit/{done.pk}/revert" in client.get(f"/audit/{done.pk}/").content.decode()
    client.force_login(scoped)
    assert f"/audit/{done.pk}/revert" not in client.get(f"/audit/{done.pk}/").content.decode()
    client.post(f"/audit/{done.pk}/revert")
    assert AllocationJob.objects.count() == 1
