"""The Celery app. Settings come from Django's under the ``CELERY_`` namespace.

Database connections in workers: Celery's Django fixup closes every connection before and after
each task (``DjangoWorkerFixup.close_database``), so ``CONN_MAX_AGE`` has no effect there and
each job paid a new PostgreSQL connection (about 20 ms of CPU between the worker and the
server). We replace that per-task close with Django's own request-end rule,
``close_old_connections``: a connection is kept until it is older than ``CONN_MAX_AGE``, broke
(errors and not usable), or was left in a failed transaction. The fixup's close at worker-process
start (``on_worker_process_init``, which calls ``_close_database``) is untouched, so a forked
child never shares its parent's socket.

Redis clients in workers: kombu's Redis channel makes a new ``redis.Redis`` for every command
it sends outside its consuming client (``Channel.conn_or_acquire``), and a worker sends two per
message with ``acks_late`` (the unacked entry when a message is delivered, its removal at the
ack). redis-py 8 builds a case-insensitive table of ~170 response callbacks for each client:
about 0.17 ms of CPU each, 0.35 ms per message. The client only borrows connections from the
channel's pool, so one per pool does the same work; a pool kombu replaces (after a connection
error or a fork, ``_disconnect_pools``) gets a client of its own.
"""

import contextlib
import os

from celery import Celery
from celery.fixups.django import DjangoWorkerFixup
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")


def _close_old_connections(self, **kwargs) -> None:
    from django.db import close_old_connections

    close_old_connections()


DjangoWorkerFixup.close_database = _close_old_connections


def _conn_or_acquire(self, client=None):
    if client:
        return contextlib.nullcontext(client)
    pool = self.pool
    kept = self.__dict__.get("_dashboard_client")
    if kept is None or kept.connection_pool is not pool:
        kept = self.__dict__["_dashboard_client"] = self._create_client()
    return contextlib.nullcontext(kept)


kombu_redis.Channel.conn_or_acquire = _conn_or_acquire

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
