"""bench/jobs.py refuses a count it would divide by before it seeds anything."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("flag", ["--latency-jobs", "--throughput-jobs", "--big-move"])
def test_a_zero_count_is_refused_up_front(flag):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "jobs.py"), flag, "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"argument {flag}: must be at least 1, not 0" in done.stderr
