"""bench/DRILLS.md from the drills' results: a summary table, then each drill in words."""

from __future__ import annotations

import os
import platform
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench.drills.invariants import Result, fmt_statuses
from bench.drills.stack import ROOT

OUT = ROOT / "bench" / "DRILLS.md"


def write_report(results: list[Result], quick: bool, seconds: float, out: Path = OUT) -> None:
    passed = sum(r.passed for r in results)
    lines = [
        "# Reliability drills",
        "",
        "Written by `make drills` (`.venv/bin/python -m bench.drills.run"
        + (" --quick" if quick else "")
        + "`).",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {seconds / 60:.1f} minutes",
        f"- Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}",
        "- Real processes: gunicorn (2x8), Celery workers (concurrency 2) and beat, Redis "
        "(own instance), PostgreSQL, the ICWS simulator; drill deadlines shortened "
        "(lease 8 s, stuck after 6 s, sweep every 2 s, retry backoff 0.5 s to 4 s)",
        f"- **{passed} of {len(results)} drills passed**",
        "",
        "ICWS moves applied counts allocate-agents calls the simulator applied for the drill's "
        "agents; a send whose outcome was unknown (worker killed mid-call, database lost, "
        "timeout) is sent again and audited as a re-send, with the same end state. The last "
        "column compares each touched agent's membership in ICWS with the dashboard's roster.",
        "",
        "| drill | result | submitted | terminal | final states | ICWS moves applied "
        "| of which audited re-sends | ICWS = roster |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {'pass' if r.passed else '**FAIL**'} | {r.submitted} | {r.terminal} | "
            f"{fmt_statuses(Counter(r.statuses))} | {r.applied} | {r.resent} | "
            f"{r.agents_consistent}/{r.agents} |"
        )
    lines.append("")
    for r in results:
        lines += [
            f"## {r.name}: {'pass' if r.passed else 'FAIL'} ({r.seconds:.0f} s)",
            "",
            f"- Did: {r.did}",
            f"- Expected: {r.expected}",
            *[f"- Saw: {s}" for s in r.saw],
            *[f"- **Problem**: {p}" for p in r.problems],
            "",
        ]
    Path(out).write_text("\n".join(lines))
