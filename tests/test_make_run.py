"""`make run` on its own: the embedded default serves the dashboard and a move succeeds.

Starts `make run` the way a new user does (no Redis, no PostgreSQL: SQLite and the embedded
broker), on free ports and a fresh data folder, waits for /readyz, moves an agent through the
JSON API, then stops it with Ctrl-C (SIGINT to its process group) and checks nothing is left.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
# Variables that would point `make run` at the test suite's Redis, database or settings.
INHERITED = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SETTINGS_MODULE",
    "DASHBOARD_VAR_DIR",
    "ICWS_BASE_URL",
    "DJANGO_DEBUG",
    "DASHBOARD_DEMO",
    "DASHBOARD_LOG_LEVEL",
)

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@pytest.fixture
def make_run(tmp_path):
    yield from _make_run(tmp_path)


def _make_run(tmp_path, *make_args: str):
    web, icws = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in INHERITED}
    env.update(DASHBOARD_VAR_DIR=str(tmp_path / "var"), ICWS_BASE_URL=f"http://127.0.0.1:{icws}")
    log = (tmp_path / "make-run.log").open("w")
    proc = subprocess.Popen(
        ["make", "run", f"RUN_ADDR=127.0.0.1:{web}", *make_args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so "Ctrl-C" reaches every child
    )
    run = {"url": f"http://127.0.0.1:{web}", "icws": icws, "proc": proc, "env": env}
    try:
        yield run
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        run["log"] = (tmp_path / "make-run.log").read_text()


def test_make_run_serves_the_dashboard_and_a_move_succeeds(make_run):
    url = make_run["url"]
    proc = make_run["proc"]

    def ready():
        assert proc.poll() is None, "make run exited early"
        response = requests.get(f"{url}/readyz", timeout=5)
        return response.status_code == 200 and response.json()

    report = wait_for(ready, 240, "/readyz")
    assert report["checks"]["broker"]["ok"] and report["checks"]["icws"]["ok"]
    # The product's own 404 in debug, not Django's list of every URL pattern.
    missing = requests.get(f"{url}/no-such-page/", timeout=10)
    assert missing.status_code == 404 and "URLconf" not in missing.text

    # As the README says, with nothing but the var dir: its local.env and generated key.
    token = subprocess.run(
        [sys.executable, "manage.py", "api_token", "supervisor"],
        cwd=ROOT,
        env=make_run["env"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    http = requests.Session()
    http.headers["Authorization"] = f"Token {token}"
    agents = http.get(f"{url}/api/agents", timeout=10).json()
    campaigns = http.get(f"{url}/api/campaigns", timeout=10).json()
    assert len(agents) == 60, "the demo directory was synced from the simulator"
    # Campaign state is not served by ICWS (the dashboard shows it as unknown): the running
    # campaigns are taken from the simulator's own /sim/state.
    sim_state = requests.get(f"http://127.0.0.1:{make_run['icws']}/sim/state", timeout=10)
    on = {c["id"] for c in sim_state.json()["campaigns"] if c["state"] == "on"}
    running = [c for c in campaigns if c["id"] in on]
    source, target = running[0], running[1]
    agent = next(a for a in source["agent_ids"] if a not in target["agent_ids"])

    created = http.post(
        f"{url}/api/allocations",
        json={
            "agent_ids": [agent],
            "campaign_ids_in": [target["id"]],
            "campaign_ids_out": [source["id"]],
            "reason": "make run smoke test",
        },
        timeout=10,
    )
    assert created.status_code == 202, created.text
    job_url = url + created.json()["url"]

    def finished():
        job = http.get(job_url, timeout=10).json()
        return job if job["status"] in ("succeeded", "failed", "cancelled") else None

    job = wait_for(finished, 60, "the job to finish")
    assert job["status"] == "succeeded", job
    moved = {a["id"]: a for a in http.get(f"{url}/api/agents", timeout=10).json()}[agent]
    assert target["id"] in moved["campaign_ids"] and source["id"] not in moved["campaign_ids"]

    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    assert proc.wait(timeout=60) is not None
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/healthz", timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{make_run['icws']}/icws/connection/features", timeout=2)


def test_make_run_passes_sim_args_to_the_simulator(tmp_path):
    runs = _make_run(tmp_path, "SIM_ARGS=--generate 300,12")
    run = next(runs)
    try:

        def ready():
            assert run["proc"].poll() is None, "make run exited early"
            return requests.get(f"{run['url']}/healthz", timeout=5).status_code == 200

        wait_for(ready, 240, "/healthz")
        state = requests.get(f"http://127.0.0.1:{run['icws']}/sim/state", timeout=10).json()
        assert len(state["agents"]) == 300 and len(state["campaigns"]) == 12
    finally:
        runs.close()
