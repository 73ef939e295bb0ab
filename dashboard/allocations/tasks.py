"""Thin Celery tasks: fetch by id, call the service, schedule what it asks for.

Publishing lives here too (``enqueue_job``): ``submit`` calls it on commit and the sweep task
calls it for the ids ``sweep.jobs_sweep`` returns. The services import this module, never the
other way round except ``execute`` and ``sweep``, which import no task.
"""

import base64
import logging
import uuid
from urllib.parse import urlsplit

from celery import current_app, shared_task, signals
from django.db import InterfaceError, OperationalError
from kombu.utils.json import JSONEncoder

from dashboard.allocations import execute, sweep
from dashboard.core.logcontext import bind_job_id
from dashboard.icws import get_client

log = logging.getLogger(__name__)
DATABASE_RETRY_SECONDS = 5


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_job_task(self, job_id: int) -> str:
    # The retry policy (which errors, how often, how long to wait) lives in execute.job_execute,
    # which records every attempt; this task only turns its answer into a delayed re-run.
    with bind_job_id(job_id):
        try:
            outcome = execute.job_execute(job_id=job_id, client=get_client())
        except (OperationalError, InterfaceError) as exc:
            # The database went away (restart, failover). The job's state is safe in it; a
            # failed move would be a lie. Try again shortly; if the job was mid-batch, its
            # lease runs out and the re-run (or the sweeper) takes it over.
            log.warning("Job %s: database unavailable (%s); retrying", job_id, exc)
            raise self.retry(countdown=DATABASE_RETRY_SECONDS, exc=exc) from exc
        except Exception as exc:  # a bug must not strand the job without a terminal state
            log.exception("Job %s failed unexpectedly", job_id)
            execute.job_fail_unexpectedly(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
            raise
    for other_id, delay in outcome.others_later:
        # Sent with this job in one call (coalescing) and due again; its own message may be
        # consumed already. A duplicate message is harmless: a run checks state under a lock.
        enqueue_job(other_id, countdown=delay)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task
def sweep_jobs_task() -> list[int]:
    swept = sweep.jobs_sweep()
    for job_id in swept:
        enqueue_job(job_id)
    return swept


def enqueue_job(job_id: int, countdown: float | None = None) -> None:
    """Publish the job's task. The job is already committed: if the broker cannot be reached,
    the supervisor still gets their job (queued) and the sweeper publishes it once the broker
    is back (ALLOCATION_STUCK_AFTER_SECONDS), instead of the request failing with a 500.

    From a web request on a Redis broker the message is pushed by ``_redis_push`` (the same
    message, a quarter of the CPU); elsewhere (a countdown, inside a task, other brokers) by
    Celery's ``apply_async``."""
    try:
        if countdown is None and (push := _redis_push()) is not None:
            push(job_id)
            return
        run_job_task.apply_async(
            (job_id,),
            countdown=countdown,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception:  # kombu raises several kinds (OperationalError, OSError, timeouts)
        log.warning(
            "Broker unreachable: job %s stays queued for the sweeper", job_id, exc_info=True
        )


# -- the submit's publish, straight onto the Redis list ----------------------------------------
# ``apply_async`` spent 0.7-0.9 ms of CPU per POST (a tenth of it) routing, building the message
# in three layers (Celery, kombu's producer, the virtual channel), checking out a kombu channel
# and making a redis-py client for each publish. The message a worker takes off the list is the
# same: Celery's own headers and body (``amqp.as_task_v2``) in the envelope kombu's Redis
# transport writes (``Channel._put``: base64 body, a delivery tag, LPUSH onto the queue's list;
# priority 0 is the list named after the queue). tests/dashboard/allocations/test_publish.py
# compares it with the one ``apply_async`` writes, and tests/integration run workers on it.
PUSH_TIMEOUT_SECONDS = 2.0
PUSH_RETRIES = 2  # as apply_async's retry_policy above: an outage costs the request < 5 s
_pushes: dict = {}  # broker URL -> its push, or None
# kombu's encoder, kept: kombu's ``dumps`` is ``json.dumps(cls=JSONEncoder)``, which builds one
# per call (two per publish). ``encode`` writes the same text.
_ENCODER = JSONEncoder()


def _redis_push():
    """The direct publish for this process's broker, or None where it does not apply: a broker
    that is not plain Redis, another message protocol, serializer or compression, routes or a
    key prefix set, the sent event asked for (settings, looked at once per broker URL), a
    publish signal connected, or inside a worker task (Celery links the message to its
    parent)."""
    # The app ``run_job_task`` resolves to (its proxy looks the task up in the current app's
    # registry by a name it builds again on every attribute read: 1% of a POST's CPU).
    app = current_app._get_current_object()
    if (
        signals.before_task_publish.receivers
        or signals.after_task_publish.receivers
        or app.current_worker_task is not None
    ):
        return None
    url = app.conf.broker_url or ""
    if url not in _pushes:
        _pushes[url] = _make_push(app, url)
    return _pushes[url]


def _make_push(app, url: str):
    conf = app.conf
    if (
        urlsplit(url).scheme not in ("redis", "rediss")
        or conf.task_protocol != 2
        or conf.task_serializer != "json"
        or conf.task_compression
        or conf.task_routes
        or conf.task_queues
        or conf.task_send_sent_event
        or conf.task_always_eager
        or (conf.broker_transport_options or {}).get("global_keyprefix")
    ):
        return None
    import redis
    from redis.backoff import ConstantBackoff
    from redis.retry import Retry

    client = redis.Redis.from_url(
        url,
        socket_timeout=PUSH_TIMEOUT_SECONDS,
        socket_connect_timeout=PUSH_TIMEOUT_SECONDS,
        retry=Retry(ConstantBackoff(0.25), PUSH_RETRIES),
    )
    queue = conf.task_default_queue
    name = run_job_task.name
    as_task = app.amqp.as_task_v2

    def push(job_id: int) -> None:
        task_id = str(uuid.uuid4())
        message = as_task(
            task_id,
            name,
            args=(job_id,),
            kwargs={},
            reply_to=app.thread_oid,
            # What Celery's saferepr writes for these, without its walk (a third of as_task_v2).
            argsrepr=f"({int(job_id)},)",
            kwargsrepr="{}",
        )
        properties = {
            **message.properties,
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        }
        envelope = {
            "body": base64.b64encode(_ENCODER.encode(message.body).encode()).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": message.headers,
            "properties": properties,
        }
        client.lpush(queue, _ENCODER.encode(envelope))

    return push
