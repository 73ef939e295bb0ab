"""The Celery app. Settings come from Django's under the ``CELERY_`` namespace.

Database connections in workers: Celery's Django fixup closes every connection before and after
each task (``DjangoWorkerFixup.close_database``), so ``CONN_MAX_AGE`` has no effect there and
each job paid a new PostgreSQL connection (about 20 ms of CPU between the worker and the
server). We replace that per-task close with Django's own request-end rule,
``close_old_connections``: a connection is kept until it is older than ``CONN_MAX_AGE``, broke
(errors and not usable), or was left in a failed transaction. The fixup's close at worker-process
start (``on_worker_process_init``, which calls ``_close_database``) is untouched, so a forked
child never shares its parent's socket.
"""

import os

from celery import Celery
from celery.fixups.django import DjangoWorkerFixup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")


def _close_old_connections(self, **kwargs) -> None:
    from django.db import close_old_connections

    close_old_connections()


DjangoWorkerFixup.close_database = _close_old_connections

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
