"""The shipped gunicorn settings (Dockerfile, docker-compose.yml and the drills read this file).

gthread workers: each worker process serves ``GUNICORN_THREADS`` requests at once, so a client
that reads slowly (an audit export downloaded at 2 KB/s, a stalled phone) holds one thread, not
a whole worker, and /healthz and the pages stay answered. With 2 sync workers, two slow export
downloads took the site down for a minute (issue 16); the drill "slow-export" shows they no
longer do. In compose, nginx (deploy/nginx.conf) buffers responses in front of this as well.
The threads share a worker's memory; every thread keeps its own database connection, so
``GUNICORN_WORKERS`` x ``GUNICORN_THREADS`` must stay below PostgreSQL's max_connections (less
what the Celery workers take).

Fewer threads cost a little less CPU per request under a flood (more threads, more switching
for the GIL): bench/api_post.py --quick, 8 clients, interleaved 8/4/8/4 threads at load 2.5-3.8,
gunicorn CPU per POST 5.01/4.83/6.07/5.07 ms (about a tenth less with 4, within the machine's
noise). 8 stay the default, so slow downloads hold fewer of a worker's threads.
"""

import os
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# A worker that stops answering its heartbeat for this long is restarted. gthread's heartbeat
# runs beside the requests, so a long export stream does not trip it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Heartbeat files in memory, not on a container's overlay disk (gunicorn's advice for Docker).
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def post_worker_init(worker):
    """Move everything the app loaded at start-up out of the garbage collector's sight.

    A worker holds hundreds of thousands of long-lived objects (Django, templates, the app's
    modules); without this each full collection walks all of them, and at 5,000 agents such
    passes (70-160 ms) landed inside board renders. Frozen objects are never collected, which
    is right for objects that live as long as the worker.
    """
    import gc

    # Django builds the URLconf on the first request; import it here so that cost (a fifth of a
    # worker's CPU in the first seconds of a flood, profiled) stays out of requests and its
    # objects are frozen with the rest.
    from django.urls import get_resolver

    patterns = get_resolver().url_patterns
    worker.log.debug("URLconf loaded: %d top-level patterns", len(patterns))
    gc.collect()
    gc.freeze()
