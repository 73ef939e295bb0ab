"""``manage.py run_local``: the embedded default that ``make run`` starts.

Migrates, then runs the ICWS simulator (unless ICWS_BASE_URL points at a real server), one Celery
worker with an embedded beat, and the web server on 127.0.0.1:8000, as child processes. Ctrl-C
(or SIGTERM) stops all of them; data stays under DASHBOARD_VAR_DIR for the next run.

It writes the debug and demo flags it runs with to DASHBOARD_VAR_DIR/local.env (settings.py
reads them; the generated secret key sits beside them), so `manage.py api_token supervisor` and
every other command beside it sees the same settings. ``--sim-args`` (``make run SIM_ARGS=...``)
go to the simulator as they are, e.g. ``--generate 5000,200`` for a big seed.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Command(BaseCommand):
    help = "Run simulator, Celery worker + beat and the web server together (the embedded default)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="web server address")
        parser.add_argument("--no-simulator", action="store_true", help="use ICWS_BASE_URL as is")
        parser.add_argument(
            "--sim-args",
            default="",
            help='simulator options in one string, e.g. "--generate 5000,200"',
        )
        parser.add_argument(
            "--setup-only",
            action="store_true",
            help="write the var dir's settings, migrate, create demo accounts; start nothing",
        )

    def handle(
        self, *args, addr: str, no_simulator: bool, sim_args: str, setup_only: bool, **options
    ):
        os.makedirs(settings.VAR_DIR, exist_ok=True)
        write_local_env()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        if not settings.DEBUG:  # WhiteNoise's hashed names need the manifest collectstatic writes
            call_command("collectstatic", interactive=False, verbosity=0)
        if settings.DEMO_MODE:
            call_command("ensure_demo_accounts")
        if setup_only:
            return

        children: list[tuple[str, subprocess.Popen]] = []
        python = sys.executable
        icws = urlsplit(settings.ICWS_BASE_URL)
        if not no_simulator and icws.hostname in LOCAL_HOSTS:
            port = str(icws.port or 8018)
            children.append(
                (
                    "simulator",
                    subprocess.Popen(
                        [
                            python,
                            "-m",
                            "icws_client.simulator",
                            "--host",
                            icws.hostname,
                            "--port",
                            port,
                            *shlex.split(sim_args),
                        ]
                    ),
                )
            )
            self._wait_for(f"{settings.ICWS_BASE_URL}/icws/connection/features", "simulator")
        try:
            call_command("sync_directory", seed_roster_from_simulator=settings.DEMO_MODE)
        except CommandError as exc:  # the board still opens; beat retries the sync
            self.stderr.write(f"Directory sync failed: {exc}")
        children.append(
            (
                "worker",
                subprocess.Popen(
                    [
                        python,
                        "-m",
                        "celery",
                        "-A",
                        "dashboard",
                        "worker",
                        "--beat",
                        "--loglevel",
                        "INFO",
                        "--concurrency",
                        "2",
                        "--schedule",
                        str(settings.VAR_DIR / "celerybeat"),
                    ]
                ),
            )
        )
        # the ICWS listener: live presence and "has a live client" (dashboard.presence)
        children.append(("listener", subprocess.Popen([python, "manage.py", "icws_listen"])))
        children.append(
            ("web", subprocess.Popen([python, "manage.py", "runserver", addr, "--noreload"]))
        )
        self._wait_for(f"http://{addr}/healthz", "web server")
        self.stdout.write(self.style.SUCCESS(f"\nDashboard: http://{addr}/"))
        if settings.DEMO_MODE:
            self.stdout.write("Demo accounts: supervisor / supervisor-demo, auditor / auditor-demo")
        self.stdout.write("Press Ctrl-C to stop.\n")
        self._supervise(children)

    def _wait_for(self, url: str, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise CommandError(f"The {what} did not start within {timeout:g} s ({url})")

    def _supervise(self, children: list[tuple[str, subprocess.Popen]]) -> None:
        stop = False

        def request_stop(signum, frame):
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, request_stop)
        try:
            while not stop:
                for name, proc in children:
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with status {proc.returncode}; stopping")
                        stop = True
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for _, proc in reversed(children):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for name, proc in children:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.stderr.write(f"{name} did not stop in 15 s; killing it")
                    proc.kill()
            self.stdout.write("Stopped.")


def write_local_env() -> None:
    """Record the flags this run has in DASHBOARD_VAR_DIR/local.env for later commands."""
    flags = {"DJANGO_DEBUG": settings.DEBUG, "DASHBOARD_DEMO": settings.DEMO_MODE}
    lines = [
        "# Written by `manage.py run_local` (`make run`): the settings every manage.py command",
        "# with this DASHBOARD_VAR_DIR starts from. The environment wins over this file.",
        *(f"{name}={int(value)}" for name, value in flags.items()),
    ]
    settings.LOCAL_ENV_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
