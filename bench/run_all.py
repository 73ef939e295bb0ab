"""`make bench`: run every benchmark under bench/ and write bench/RESULTS.md.

Each benchmark prints its own table; this collects them with the machine and the date, and a
summary of the headline figures and their ratios against their floors (read from the JSON each
benchmark leaves in bench/out/). Benchmarks never fail for being slow: a benchmark that crashes
is reported as such and the others still run; the exit status is non-zero only then.

Usage: .venv/bin/python bench/run_all.py [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"

# name -> (script, full arguments, quick arguments, what it measures)
BENCHMARKS = {
    "client": (
        "client_roundtrip.py",
        ["--calls", "500"],
        ["--calls", "100"],
        "allocate-agents round trip: IcwsClient vs bare requests (floor)",
    ),
    "jobs": (
        "jobs.py",
        [],
        ["--quick"],
        "job latency POST -> succeeded vs a bare client call; jobs/s with 1 and 2 workers "
        "(zero lost, applied once, worker CPU per job); a 5,000-agent move; SQL per job",
    ),
    "api": (
        "api_post.py",
        [],
        ["--quick"],
        "POST /api/allocations from 8 clients; 20 supervisors (POST and job GET latency)",
    ),
    "board": (
        "board_render.py",
        ["--requests", "30"],
        ["--requests", "5", "--sizes", "60,1000"],
        "board server render at 60 / 1,000 / 5,000 agents, 200 campaigns",
    ),
    "audit": (
        "audit_page.py",
        [],
        ["--rows", "50000"],
        "audit page (first and deep page) and export at 1,000,000 rows",
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), default=None)
    args = parser.parse_args()
    names = args.only or list(BENCHMARKS)
    sections, failed = [], []
    for name in names:
        script, full, quick, what = BENCHMARKS[name]
        section = _run(name, script, quick if args.quick else full, what)
        sections.append(section)
        if section["status"] == "failed":
            failed.append(name)
    _write(sections, quick=args.quick)
    print(f"\nWrote {BENCH / 'RESULTS.md'}")
    return 1 if failed else 0


def _run(name: str, script: str, arguments: list[str], what: str) -> dict:
    path = BENCH / script
    command = [sys.executable, str(path.relative_to(BENCH.parent)), *arguments]
    shown = " ".join([".venv/bin/python", *command[1:]])
    if not path.exists():
        return {"name": name, "what": what, "command": shown, "status": "missing", "output": ""}
    print(f"\n== {name}: {shown}", flush=True)
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=BENCH.parent, capture_output=True, text=True, env=os.environ.copy()
    )
    print(result.stdout[-4000:], flush=True)
    status = "ok" if result.returncode == 0 else "failed"
    if status == "failed":
        print(result.stderr[-4000:], file=sys.stderr)
    return {
        "name": name,
        "what": what,
        "command": shown,
        "status": status,
        "seconds": round(time.monotonic() - started),
        "output": result.stdout.strip() + ("\n" + result.stderr[-2000:] if status != "ok" else ""),
    }


def _machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {os.cpu_count()} CPUs ({cpu}){memory}, {platform.system()} "
        f"{platform.release()}",
        f"- Python {platform.python_version()}; {_version(['psql', '--version'])}; "
        f"{_version(['redis-server', '--version'])}",
    ]


def _version(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return f"{command[0]}: not found"


def _summary() -> list[str]:
    """Headline figures and ratios against their floors, from the benchmarks' JSON files."""
    rows = []
    client = _load("client_roundtrip.json")
    if client:
        bare, ours = client["bare"], client["client"]
        rows.append(
            f"| allocate-agents via IcwsClient | {ours['rate']:.0f} calls/s, p50 "
            f"{ours['p50']:.2f} ms, p95 {ours['p95']:.2f} ms | bare requests: {bare['rate']:.0f} "
            f"calls/s, p50 {bare['p50']:.2f} ms | {ours['p50'] / bare['p50']:.2f}x p50 |"
        )
    rows.extend(_board_rows(_load("board_render.json")))
    for name in ("jobs.json", "api_post.json", "audit_page.json"):
        data = _load(name)
        if data and isinstance(data, dict) and data.get("summary_rows"):
            rows.extend(data["summary_rows"])
    if not rows:
        return []
    return [
        "| figure | measured | floor | ratio |",
        "|---|---|---|---|",
        *rows,
    ]


def _board_rows(board) -> list[str]:
    """board_render.json: {"rows": [one per size], "browser": {...}} (a bare list before)."""
    sizes = board.get("rows", []) if isinstance(board, dict) else (board or [])
    rows = []
    for size in sizes:
        cold, cached, current = size.get("page cold") or size["page"], size["page"], size["current"]
        rows.append(
            f"| board page, {size['agents']} agents / {size['campaigns']} campaigns | cold p50 "
            f"{cold['p50_ms']} ms, p95 {cold['p95_ms']} ms, {cold['queries']} SQL queries, "
            f"{cold.get('bytes', 0) / 1e6:.2f} MB; cached p95 {cached['p95_ms']} ms; unchanged "
            f"poll p50 {current['p50_ms']} ms | p95 <= 200 ms, <= 1.5 MB (at 5,000) | "
            f"{cold['p95_ms'] / 200:.2f}x |"
        )
    browser = board.get("browser") if isinstance(board, dict) else None
    loads = (browser or {}).get("loads") or []
    if loads:
        dcl = statistics.median(load["dcl_ms"] for load in loads)
        rss = statistics.median(load["renderer_rss_mb"] for load in loads)
        key = max(max(load["key_ms"]) for load in loads if load.get("key_ms"))
        rows.append(
            f"| board in Chromium, {browser.get('agents')} agents | DOMContentLoaded p50 "
            f"{dcl:.0f} ms, renderer RSS p50 {rss:.0f} MB, filter keystroke max {key:.0f} ms "
            f"| <= 1000 ms, <= 200 MB, <= 50 ms | {dcl / 1000:.2f}x, {rss / 200:.2f}x, "
            f"{key / 50:.2f}x |"
        )
    return rows


def _load(name: str):
    try:
        return json.loads((OUT / name).read_text())
    except (OSError, ValueError):
        return None


def _write(sections: list[dict], *, quick: bool) -> None:
    lines = ["# Benchmark results", "", "Written by `make bench` (`bench/run_all.py`)."]
    if quick:
        lines.append("**Quick run (small sizes): not the reference figures.**")
    lines += ["", *_machine(), ""]
    summary = _summary()
    if summary:
        lines += ["## Summary", "", *summary, ""]
    for section in sections:
        lines += [f"## {section['name']}: {section['what']}", "", f"`{section['command']}`"]
        if section["status"] == "missing":
            lines += ["", "Not run: the script is not in this checkout.", ""]
            continue
        lines += [
            "",
            f"Status: {section['status']}, {section.get('seconds', 0)} s.",
            "",
            "```",
            section["output"],
            "```",
            "",
        ]
    (BENCH / "RESULTS.md").write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
