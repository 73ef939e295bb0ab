"""A worker killed with SIGKILL mid-job: the sweeper re-queues the job and it finishes once.

Needs PostgreSQL: the worker is a separate process sharing the test database. The worker is
caught at a known point, inside its send: the job's claim (lease, hold, batch marked sending) has
committed and the simulator holds the allocate-agents call (a 503 after 5 s, so the doomed send
has no effect) when the worker is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.db import connection

from dashboard.allocations.models import AllocationJob
from dashboard.allocations.submit import job_submit
from dashboard.audit.models import AuditEvent
from tests.integration.conftest import REDIS_URL, pick_move, sim_moves, wait_for, wait_terminal

pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
    reason="needs PostgreSQL (the PostgreSQL pass of make test runs it)",
)


def _db_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _start_worker(simulator, tmp_path, name: str, beat: bool) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _db_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "ICWS_BASE_URL": simulator.base_url,
        "ICWS_TIMEOUT": "2",
        "ALLOCATION_LEASE_SECONDS": "2",
        "ALLOCATION_STUCK_AFTER_SECONDS": "2",
        "SWEEP_INTERVAL_SECONDS": "1",
        "DIRECTORY_SYNC_INTERVAL_SECONDS": "3600",
        "DASHBOARD_VAR_DIR": str(tmp_path),
    }
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "dashboard",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "WARNING",
        "-n",
        f"{name}@%h",
        "--without-mingle",
        "--without-gossip",
    ]
    if beat:
        cmd += ["--beat", "--schedule", str(tmp_path / "beat-schedule")]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_killed_worker_job_is_swept_and_finishes_exactly_once(
    directory, supervisor, simulator, redis_broker, tmp_path
):
    redis_broker.flushdb()
    agents, source, target = pick_move(directory)
    first = second = None
    try:
        simulator.set_faults(status=503, latency_ms=5000, paths="allocate-agents")
        first = _start_worker(simulator, tmp_path, "doomed", beat=False)
        job, _ = job_submit(
            actor=supervisor, agent_ids=agents, campaign_ids_in=[target], campaign_ids_out=[source]
        )

        def running():
            job.refresh_from_db()
            return job.status == AllocationJob.Status.RUNNING

        wait_for(running, timeout=30, what="the worker to start the job")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        simulator.clear_faults()
        job.refresh_from_db()
        assert job.status == AllocationJob.Status.RUNNING, "stranded until the sweeper acts"
        assert sim_moves(simulator) == []

        second = _start_worker(simulator, tmp_path, "rescuer", beat=True)
        wait_terminal(job, timeout=60)
        assert job.status == AllocationJob.Status.SUCCEEDED, job.error_message
        simulator.wait_idle()
        applied = [m for m in sim_moves(simulator) if agents[0] in m["agentIds"]]
        assert len(applied) == 1, "applied exactly once"
        swept = AuditEvent.objects.filter(job=job, kind="retry").order_by("id")
        assert swept[0].message.startswith("Lease expired while the send of batch 1 was in flight")
        assert swept[1].message.startswith("Re-sending batch 1: the previous send's outcome")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
