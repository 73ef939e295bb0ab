"""The move preview (the board's confirmation dialog) for 500 to 5,000 agents from 200 campaigns.

Usage: .venv/bin/python bench/move_preview.py [--sizes 500,1000,2000,5000] [--campaigns 200]
       [--requests 20]

On PostgreSQL when DATABASE_URL is set (a scratch database ``bench_move_preview`` is made on that
server and dropped at the end), on a scratch SQLite file otherwise. Seeds agents spread over the
campaigns (a quarter of them in two, so they have two cards), then posts the board's preview
request for every card of them, moving all to one campaign, through Django's test client
(middleware, sessions, templates: everything but the socket), and prints p50/p95 next to the
floor: under 1 s for 5,000 agents (issue 12; the nested template loop took 8.1 s at 2,000).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._db import drop, recreate, use_settings  # noqa: E402 - after the path is set

SCRATCH_DB = "bench_move_preview"
FLOOR_MS = 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000,5000")
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    server_url = os.environ.get("DATABASE_URL", "")
    scratch = tempfile.TemporaryDirectory(prefix="bench-move-preview-")
    if server_url.startswith("postgres"):
        database, vendor = recreate(server_url, SCRATCH_DB), "PostgreSQL"
    else:
        database, vendor = f"sqlite:///{scratch.name}/bench.sqlite3", "SQLite"
    use_settings(database, DASHBOARD_VAR_DIR=scratch.name)
    try:
        rows = _run(sizes, args.campaigns, args.requests)
    finally:
        from django.db import connections

        connections.close_all()
        if vendor == "PostgreSQL":
            drop(server_url, SCRATCH_DB)
        scratch.cleanup()
    _print(rows, args, vendor)


def _run(sizes: list[int], campaigns: int, requests: int) -> list[dict]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return [_measure(*_seed(size, campaigns), requests) for size in sizes]


def _seed(agents: int, campaigns: int) -> tuple[int, int, list[str], str]:
    from django.contrib.auth.models import Group, User

    from dashboard.directory.models import Agent, Campaign, RosterEntry

    RosterEntry.objects.all().delete()
    Agent.objects.all().delete()
    Campaign.objects.all().delete()
    camps = Campaign.objects.bulk_create(
        Campaign(id=f"{{C{i:04d}}}", name=f"Campaign {i}", state="on") for i in range(campaigns)
    )
    target = Campaign.objects.create(id="{TARGET}", name="Target", state="on")
    created = Agent.objects.bulk_create(
        Agent(id=f"agent{i:05d}", name=f"Agent {i:05d}", on_phone=i % 7 == 0) for i in range(agents)
    )
    entries, picks = [], []
    for i, agent in enumerate(created):
        homes = [camps[i % campaigns]] + ([camps[(i + 1) % campaigns]] if i % 4 == 0 else [])
        for home in homes:
            entries.append(RosterEntry(agent=agent, campaign=home))
            picks.append(f"{quote(home.id, safe='')}/{quote(agent.id, safe='')}/0")
    RosterEntry.objects.bulk_create(entries, batch_size=5000)
    user, _ = User.objects.get_or_create(username="bench-supervisor")
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    return agents, campaigns, picks, target.id


def _measure(agents: int, campaigns: int, picks: list[str], target: str, n: int) -> dict:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench._sim import percentile

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="bench-supervisor"))
    data = {"picks": "\n".join(picks), "target": target}
    headers = {"HX-Request": "true", "HX-Target": "move-dialog-body"}

    def post():
        response = client.post("/moves/preview", data, headers=headers)
        assert response.status_code == 200, response.content[:300]
        return response

    html = post().content.decode()  # warm up, and check it is the whole move
    assert f"Move {agents} agents to Target" in html, html[:300]
    assert html.count("<li>Agent ") == agents
    times = []
    for _ in range(n):
        start = time.perf_counter()
        post()
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        post()
    return {
        "agents": agents,
        "campaigns": campaigns,
        "cards": len(picks),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "queries": len(queries),
        "kb": round(len(html) / 1024),
    }


def _print(rows: list[dict], args, vendor: str) -> None:
    print(f"Move preview, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}")
    print(f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {vendor}, in-process")
    print(f"{args.requests} renders per figure; POST /moves/preview, htmx dialog body\n")
    header = (
        f"{'agents':>7} {'cards':>6} {'p50 ms':>8} {'p95 ms':>8} {'floor':>8} "
        f"{'queries':>8} {'KiB':>6}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['agents']:>7} {row['cards']:>6} {row['p50_ms']:>8} {row['p95_ms']:>8} "
            f"{'< 1 s':>8} {row['queries']:>8} {row['kb']:>6}"
        )
    worst = max(rows, key=lambda r: r["agents"])
    verdict = "meets" if worst["p95_ms"] < FLOOR_MS else "MISSES"
    print(
        f"\n{worst['agents']} agents: p95 {worst['p95_ms']} ms, {verdict} the floor "
        f"(< {FLOOR_MS:.0f} ms)"
    )
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "move_preview.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
