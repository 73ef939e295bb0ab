"""`make drills`: fault drills against real processes; writes bench/DRILLS.md.

Usage: .venv/bin/python -m bench.drills.run [--quick] [--only NAME ...]
       [--database-url postgres://postgres@127.0.0.1:5432/postgres]

Every drill submits moves through the JSON API (gunicorn), lets Celery workers on our own Redis
run them against the ICWS simulator, does something bad in the middle, and then checks the same
invariants (``invariants.py``). One module per drill, each with ``run(ctx)``; ``report.py``
writes the file. Exit status 1 if any drill fails. The PostgreSQL drill restarts the local
cluster (it needs root, as in CI).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

from bench._db import DEFAULT_ADMIN_URL
from bench.drills.context import DrillContext
from bench.drills.invariants import Result
from bench.drills.report import OUT, write_report
from bench.drills.stack import Stack

# Drill name -> its module under bench/drills/, imported when it runs (the fuzz drill needs the
# `drills` extra, which `make drills` installs).
DRILLS = {
    "worker-kill": "worker_kill",
    "redis-restart": "redis_restart",
    "postgres-restart": "postgres_restart",
    "faults": "icws_faults",
    "load": "load",
    "fuzz": "fuzz",
    "security": "security",
    "slow-export": "slow_export",
    "listener-kill": "listener_kill",
    "trickle": "trickle",  # issue 14: a 202 whose body trickles past the lease
    "beat-restart": "beat_restart",  # issue 18: a plan's run happens once
    "primary-gone": "primary_gone",  # last: it leaves the primary simulator with a fresh world
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", choices=list(DRILLS), default=None)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL),
    )
    args = parser.parse_args()
    stack = Stack(args.database_url)
    results: list[Result] = []
    started = time.monotonic()
    try:
        stack.start()
        ctx = DrillContext(stack, args.quick)
        for name in args.only or DRILLS:
            results += _run_one(name, ctx)
    finally:
        stack.stop()
    write_report(results, args.quick, time.monotonic() - started)
    print(f"\nWrote {OUT}")
    return 0 if results and all(r.passed for r in results) else 1


def _run_one(name: str, ctx: DrillContext) -> list[Result]:
    """One drill, printed as it ends; a crashed drill is a failed drill, and the rest still run."""
    print(f"== {name}", flush=True)
    t0 = time.monotonic()
    try:
        out = importlib.import_module(f"bench.drills.{DRILLS[name]}").run(ctx)
    except Exception as exc:
        out = Result(name, "(crashed)", "-", problems=[f"{type(exc).__name__}: {exc}"])
        if "sim" in ctx.stack.procs:
            ctx.stack.clear_faults()
        ctx.stack.stop_workers()
    results = out if isinstance(out, list) else [out]
    for result in results:
        result.seconds = result.seconds or time.monotonic() - t0
        print(f"   {result.name}: {'PASS' if result.passed else 'FAIL'}", flush=True)
        for line in [*result.saw, *result.problems]:
            print(f"     {line}", flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
