"""The processes a drill runs against, each one stoppable: simulator, Redis, gunicorn, Celery
workers and beat, on a scratch PostgreSQL database (``bench_drills``).

Redis is our own ``redis-server`` on a spare port (no persistence), so restarting it loses its
queue the way a crashed broker would, and nothing else on the machine notices.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench._db import drop, recreate, with_db  # noqa: E402
from bench._sim import free_port, wait_http  # noqa: E402

SCRATCH_DB = os.environ.get("DRILLS_SCRATCH_DB", "bench_drills")  # two runs at once: differ
ICWS_USER, ICWS_PASSWORD = "svc_dashboard", "svc-dashboard-demo"
TERMINAL = {"succeeded", "failed", "cancelled"}

# Short deadlines so a drill sees recovery in seconds; the mechanisms are the production ones.
DRILL_SETTINGS = {
    # Longer than ICWS_TIMEOUT + 5 s (system check allocations.E001): a lease must outlast a send.
    "ALLOCATION_LEASE_SECONDS": "16",
    "ALLOCATION_STUCK_AFTER_SECONDS": "6",
    "SWEEP_INTERVAL_SECONDS": "2",
    "ALLOCATION_RETRY_BASE_SECONDS": "0.5",
    "ALLOCATION_RETRY_CAP_SECONDS": "4",
    "ALLOCATION_MAX_ATTEMPTS": "25",
    "ICWS_TIMEOUT": "10",
    "DIRECTORY_SYNC_INTERVAL_SECONDS": "3600",
    "LISTENER_STALE_SECONDS": "5",  # the listener-kill drill waits this long for "stale"
    # The agents are the members of these (required, REF 10): the groups `--generate 1500,20`
    # makes (seed.generate_seed: campaigns // 4 + 1 teams).
    "ICWS_AGENT_WORKGROUPS": ",".join(f"Dialer Team {n:03d}" for n in range(1, 7)),
}


@dataclass
class Stack:
    admin_url: str
    sim_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="drills-")))
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def sim(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def env(self) -> dict[str, str]:
        broker = f"redis://127.0.0.1:{self.redis_port}/0"
        return {
            **os.environ,
            **DRILL_SETTINGS,
            "DATABASE_URL": with_db(self.admin_url, SCRATCH_DB),
            "DATABASE_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": broker,
            "REDIS_URL": broker,
            "ICWS_BASE_URL": self.sim,
            "ICWS_USER": ICWS_USER,
            "ICWS_PASSWORD": ICWS_PASSWORD,
            # The 503 switchover drill names localhost as the alternate host; only listed
            # alternates are ever sent the password.
            # The primary-gone drill's alternate simulator listens on 127.0.0.2.
            "ICWS_ALTERNATE_HOSTS": "localhost,127.0.0.2",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "drills-only-" + "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_HSTS_SECONDS": "0",
            "DASHBOARD_DEMO": "1",
            "DASHBOARD_LOG_LEVEL": "ERROR",
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "DASHBOARD_VAR_DIR": str(self.tmp),
            "DJANGO_STATIC_ROOT": str(self.tmp / "static"),
        }

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        recreate(self.admin_url, SCRATCH_DB)
        os.environ.update(self.env)  # this process reads the same database (checks, audit)
        self.start_sim()
        self.start_redis()
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)  # as the image build does
        call_command("sync_directory", seed_roster_from_simulator=True)
        self._spawn("web", self._gunicorn())
        self._spawn("beat", self._celery("beat", "--schedule", str(self.tmp / "beat")))
        self.start_listener()
        wait_http(f"{self.web}/healthz")

    def stop(self) -> None:
        for proc in [*self.workers, *self.procs.values()]:
            _stop(proc)
        self.workers.clear()
        self.procs.clear()
        from django.db import connections

        connections.close_all()
        with contextlib.suppress(Exception):
            drop(self.admin_url, SCRATCH_DB)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_sim(self, *extra: str) -> None:
        self._spawn(
            "sim",
            [
                sys.executable,
                "-m",
                "icws_client.simulator",
                "--port",
                str(self.sim_port),
                "--generate",
                "1500,20",
                "--apply-delay",
                "0.01",
                "--log-level",
                "ERROR",
                *extra,
            ],
        )
        wait_http(f"{self.sim}/icws/connection/features")

    def stop_sim(self) -> None:
        _stop(self.procs.pop("sim"), sig=signal.SIGKILL)

    def start_redis(self) -> None:
        self._spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
        )
        deadline = time.monotonic() + 20
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True, check=False
            ).stdout.strip()
            != b"PONG"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("redis did not start")
            time.sleep(0.1)

    def stop_redis(self) -> None:
        _stop(self.procs.pop("redis"), sig=signal.SIGKILL)

    def start_workers(self, count: int = 1, concurrency: int = 2) -> None:
        for _ in range(count):
            n = len(self.workers)
            self.workers.append(
                self._popen(
                    self._celery(
                        "worker",
                        "--concurrency",
                        str(concurrency),
                        "--hostname",
                        f"drill{n}-{time.monotonic_ns()}@%h",
                        "--without-gossip",
                        "--without-mingle",
                    )
                )
            )
        time.sleep(3)  # workers connect to the broker

    def kill_workers(self) -> None:
        """kill -9 every worker process and its pool children, as a crashed host would."""
        for proc in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        self.workers.clear()

    def start_listener(self) -> None:
        self._spawn("listener", [sys.executable, "manage.py", "icws_listen"])

    def kill_listener(self) -> None:
        """kill -9 the ICWS listener, as a crashed host would."""
        proc = self.procs.pop("listener")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_workers(self) -> None:
        for proc in self.workers:
            _stop(proc)
        self.workers.clear()

    # -- helpers --------------------------------------------------------------------------------

    def _gunicorn(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "dashboard.wsgi",
            "--config",  # the shipped settings (gthread 2 x 8), only the address differs
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.web_port}",
            "--log-level",
            "error",
        ]

    def _celery(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "dashboard", *args, "--loglevel", "ERROR"]

    def _popen(self, command: list[str]) -> subprocess.Popen:
        log = (self.tmp / f"{Path(command[2]).name}-{len(self.procs)}.log").open("ab")
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # its own process group: kill -9 reaches the pool children
        )

    def _spawn(self, name: str, command: list[str]) -> None:
        self.procs[name] = self._popen(command)

    def sim_moves(self) -> list[dict]:
        return requests.get(f"{self.sim}/sim/moves", timeout=10).json()

    def sim_state(self) -> dict:
        return requests.get(f"{self.sim}/sim/state", timeout=30).json()

    def faults(self, **faults) -> None:
        r = requests.post(f"{self.sim}/sim/faults", json=faults, timeout=10)
        r.raise_for_status()

    def clear_faults(self) -> None:
        requests.delete(f"{self.sim}/sim/faults", timeout=10)


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_terminal(job_ids: list[int], timeout: float) -> tuple[bool, Counter]:
    from dashboard.allocations.models import AllocationJob

    deadline = time.monotonic() + timeout
    while True:
        statuses = Counter(
            AllocationJob.objects.filter(pk__in=job_ids).values_list("status", flat=True)
        )
        done = sum(n for s, n in statuses.items() if s in TERMINAL)
        if done == len(job_ids) or time.monotonic() > deadline:
            return done == len(job_ids), statuses
        time.sleep(0.25)
