"""Simulator command line: --write-seed, argument checks, and a real process stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from icws_client.simulator import default_seed, generate_seed
from icws_client.simulator.__main__ import main

from .conftest import connect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_write_seed_dumps_the_default_seed(tmp_path):
    path = tmp_path / "seed.json"
    assert main(["--write-seed", str(path)]) == 0
    assert json.loads(path.read_text(encoding="utf-8")) == default_seed()
    assert "Siobhán" in path.read_text(encoding="utf-8"), "written as UTF-8, not escaped"


def test_write_seed_with_generate(tmp_path):
    path = tmp_path / "big.json"
    assert main(["--generate", "300,12", "--write-seed", str(path)]) == 0
    assert json.loads(path.read_text(encoding="utf-8")) == generate_seed(agents=300, campaigns=12)


@pytest.mark.parametrize(
    "argv",
    [
        ["--generate", "many"],
        ["--generate", "10,0"],
        ["--fault-count", "3"],
        ["--fault-status", "500", "--fault-count", "1", "--fault-rate", "0.5"],
        ["--seed", "/no/such/seed.json"],
        ["--seed", "x.json", "--generate", "5,5"],
    ],
)
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("ICWS_USER", None)
    env.pop("ICWS_PASSWORD", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "icws_client.simulator", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            requests.get(f"{base}/sim/state", timeout=1)
            return proc, base
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(proc.communicate()[1].decode()) from None
            time.sleep(0.05)


def test_the_module_serves_logs_and_exits_0_on_sigterm():
    proc, base = _start("--apply-delay", "0.01", "--fault-status", "503", "--fault-count", "1")
    try:
        r = requests.get(f"{base}/icws/connection/features", timeout=5)
        assert r.status_code == 200
        assert {f["featureId"] for f in r.json()["featureInfoList"]} >= {"dialer", "messaging"}
        session = connect(base).json()
        cookie = f"icws_{session['sessionId']}="
        assert session["userID"] == "svc_dashboard"
        assert connect(base, password="not-the-password").status_code == 400
        headers = {"ININ-ICWS-CSRF-Token": session["csrfToken"]}
        url = f"{base}/icws/{session['sessionId']}/connection"
        assert requests.get(url, headers=headers, timeout=5).status_code == 503  # --fault-count 1
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    log = err.decode()
    assert "GET /icws/connection/features 200" in log
    assert "POST /icws/connection 201" in log
    assert "GET /icws/{sessionId}/connection 503" in log
    assert "svc-dashboard-demo" not in log and "not-the-password" not in log
    assert session["sessionId"] not in log and session["csrfToken"] not in log
    assert cookie not in log


def test_sigint_also_stops_it_cleanly():
    proc, _ = _start("--no-licence")
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    assert proc.returncode == 0
