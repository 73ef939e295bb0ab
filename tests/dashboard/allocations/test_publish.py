"""The submit's publish on a Redis broker (``tasks.enqueue_job``'s direct push): the message is
the one Celery's ``apply_async`` writes, it goes only after commit, and a broker outage leaves
the job queued for the sweeper. Against the Redis at ``TEST_REDIS_URL``."""

from __future__ import annotations

import base64
import json
import os
import socket
from unittest import mock

import pytest
import redis

from dashboard.allocations import submit, tasks
from dashboard.allocations.models import AllocationJob

APP = tasks.run_job_task.app


@pytest.fixture
def broker():
    url = APP.conf.broker_url or ""
    if not url.startswith("redis"):
        pytest.skip("needs the Redis broker (TEST_REDIS_URL)")
    client = redis.Redis.from_url(url)
    queue = APP.conf.task_default_queue
    client.delete(queue)
    yield client, queue
    client.delete(queue)


def _messages(broker) -> list[dict]:
    client, queue = broker
    return [json.loads(m) for m in reversed(client.lrange(queue, 0, -1))]  # oldest first


def _without_ids(message: dict) -> tuple[dict, list]:
    """The message with its per-message ids and the job id taken out, and its body decoded."""
    message = json.loads(json.dumps(message))
    task_id = message["headers"].pop("id")
    assert message["headers"].pop("root_id") == task_id
    assert message["properties"].pop("correlation_id") == task_id
    assert message["properties"].pop("delivery_tag")
    argsrepr = message["headers"].pop("argsrepr")
    body = json.loads(base64.b64decode(message.pop("body")))
    assert argsrepr == repr(tuple(body[0]))
    return message, body


def test_the_pushed_message_is_the_one_apply_async_writes(broker):
    tasks.run_job_task.apply_async((41,))
    with mock.patch.object(tasks.run_job_task, "apply_async") as publish:
        tasks.enqueue_job(42)
    publish.assert_not_called()

    published, pushed = _messages(broker)
    published, published_body = _without_ids(published)
    pushed, pushed_body = _without_ids(pushed)
    assert pushed == published
    assert published_body[0] == [41]
    assert pushed_body[0] == [42]
    assert pushed_body[1:] == published_body[1:]
    assert pushed["headers"]["task"] == "dashboard.allocations.tasks.run_job_task"


def test_the_job_is_pushed_after_commit(
    broker, mover, dir_small, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job, _ = submit.job_submit(actor=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"])
    assert _messages(broker) == []  # nothing before the job row is committed
    for callback in callbacks:
        callback()
    [message] = _messages(broker)
    assert _without_ids(message)[1][0] == [job.pk]


def test_a_countdown_goes_through_apply_async(broker):
    with mock.patch.object(tasks.run_job_task, "apply_async") as publish:
        tasks.enqueue_job(7, countdown=3)
    assert publish.call_args.args[0] == (7,)
    assert publish.call_args.kwargs["countdown"] == 3
    assert _messages(broker) == []


def test_a_broker_outage_on_the_push_leaves_the_job_queued_for_the_sweeper(
    broker, mover, dir_small, django_capture_on_commit_callbacks, caplog
):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Celery's broker_url reads CELERY_BROKER_URL first (tests/settings.py sets it).
    with (
        mock.patch.dict(os.environ, CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0"),
        mock.patch.object(tasks.run_job_task, "apply_async") as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        job, created = submit.job_submit(
            actor=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"], campaign_ids_out=["{C1}"]
        )
    assert created
    publish.assert_not_called()  # the push was tried, and failed
    job.refresh_from_db()
    assert job.status == AllocationJob.Status.QUEUED
    assert f"job {job.pk} stays queued for the sweeper" in caplog.text
