"""Every shell command in README.md's code blocks is known here, and the safe ones run as written.

They run beside a `make run`-style var dir (what `run_local` writes before it starts anything)
and nothing else from the test environment, as a new user's shell would: no DJANGO_DEBUG, no
DJANGO_SECRET_KEY. A command added to the README fails `test_every_readme_command_is_known`
until it gets a line in COMMANDS.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```(?:sh|bash|shell)\n(.*?)^```", re.M | re.S)

RUN = "run"  # run as written; exit status 0 and some output
# command as written (continuations joined) -> RUN, or why it does not run here
COMMANDS = {
    "make run": "starts servers until Ctrl-C: tests/test_make_run.py runs it",
    "make test": "the whole suite: run by the coordinator, not from inside it",
    "TOKEN=$(.venv/bin/python manage.py api_token supervisor)": RUN,
    "curl -s -H \"Authorization: Token $TOKEN\" -H 'Content-Type: application/json' "
    '-d \'{"agent_ids": ["a.bello"], "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]}\' '
    "http://127.0.0.1:8000/api/allocations": "needs `make run` serving: test_make_run moves an "
    "agent the same way",
}
# Variables that would point a command at the test suite's settings instead of the var dir's.
INHERITED = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_DEBUG",
    "DASHBOARD_DEMO",
    "DJANGO_SECRET_KEY",
    "DASHBOARD_LOG_LEVEL",
)


def readme_commands() -> list[str]:
    commands = []
    for block in BLOCK.findall((ROOT / "README.md").read_text()):
        for line in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            command = re.sub(r"\s+", " ", command)
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def test_every_readme_command_is_known():
    commands = readme_commands()
    assert commands, "no ```sh blocks found in README.md"
    assert sorted(set(commands)) == sorted(COMMANDS)


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory) -> dict[str, str]:
    """A var dir as `make run` leaves it: local.env, secret key, migrated, demo accounts."""
    var = tmp_path_factory.mktemp("readme") / "var"
    env = {k: v for k, v in os.environ.items() if k not in INHERITED}
    env["DASHBOARD_VAR_DIR"] = str(var)
    subprocess.run(
        [sys.executable, "manage.py", "run_local", "--setup-only"],
        cwd=ROOT,
        env={**env, "DJANGO_DEBUG": "1", "DASHBOARD_DEMO": "1"},  # as the Makefile passes them
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert (var / "local.env").exists() and (var / "secret_key").exists()
    return env


@pytest.mark.parametrize("command", [c for c, how in COMMANDS.items() if how == RUN])
def test_the_safe_commands_run_as_written(var_dir, command):
    # `TOKEN=$(...)` prints nothing itself: echo what it set, so a silent failure shows.
    script = f"set -e\n{command}\n" + (
        'test -n "$TOKEN"; echo "$TOKEN"\n' if "TOKEN=" in command else ""
    )
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=var_dir, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize(
    "target", sorted({c.split()[1] for c in COMMANDS if c.startswith("make ")})
)
def test_the_make_targets_exist(target):
    result = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
