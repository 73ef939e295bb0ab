"""The board's server render at 60, 1,000 and 5,000 agents with 200 campaigns.

Usage: .venv/bin/python bench/board_render.py [--sizes 60,1000,5000] [--campaigns 200]
       [--requests 30] [--database-url postgres://postgres@127.0.0.1:5432/postgres]

Seeds a scratch PostgreSQL database (``bench_board``, dropped at the end), then renders ``/``
(the whole page), the htmx refresh of the columns, and the refresh that finds the board current
(204) in-process through Django's test client
(middleware, sessions, templates: everything but the socket), and prints p50/p95 and the number
of SQL queries per render. The query count must not grow with the number of agents.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._db import DEFAULT_ADMIN_URL, drop, recreate, use_settings  # noqa: E402 - after the path is set

SCRATCH_DB = "bench_board"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="60,1000,5000")
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL),
        help="a server where the scratch database can be created",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    admin_url = args.database_url
    use_settings(recreate(admin_url, SCRATCH_DB))
    try:
        rows = _run(sizes, args.campaigns, args.requests)
    finally:
        from django.db import connections

        connections.close_all()
        drop(admin_url, SCRATCH_DB)
    _print(rows, args)


def _run(sizes: list[int], campaigns: int, requests: int) -> list[dict]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rows = []
    for size in sizes:
        _seed(size, campaigns)
        rows.append(_measure(size, campaigns, requests))
    return rows


def _seed(agents: int, campaigns: int) -> None:
    from django.contrib.auth.models import Group, User

    from dashboard.directory.models import Agent, Campaign, RosterEntry, Workgroup

    RosterEntry.objects.all().delete()
    Agent.workgroups.through.objects.all().delete()
    Agent.objects.all().delete()
    Campaign.objects.all().delete()
    Workgroup.objects.all().delete()
    groups = Workgroup.objects.bulk_create(
        Workgroup(id=f"WG{i}", name=f"Workgroup {i}") for i in range(20)
    )
    states = ["on"] * 6 + ["paused", "off"]
    camps = Campaign.objects.bulk_create(
        Campaign(
            id=f"{{C{i:04d}}}",
            name=f"Campaign {i}",
            state=states[i % len(states)],
            workgroup=groups[i % len(groups)],
        )
        for i in range(campaigns)
    )
    created = Agent.objects.bulk_create(
        Agent(
            id=f"agent{i:05d}",
            name=f"Agent {i:05d}",
            status_id="Available",
            logged_in=i % 5 != 0,
            on_phone=i % 7 == 0,
        )
        for i in range(agents)
    )
    Agent.workgroups.through.objects.bulk_create(
        Agent.workgroups.through(agent_id=a.id, workgroup_id=groups[i % len(groups)].id)
        for i, a in enumerate(created)
    )
    # Most agents in one campaign, some in two, a tenth in none (the Unassigned column).
    entries = []
    for i, agent in enumerate(created):
        if i % 10 == 0:
            continue
        entries.append(RosterEntry(agent=agent, campaign=camps[i % campaigns]))
        if i % 4 == 0:
            entries.append(RosterEntry(agent=agent, campaign=camps[(i + 1) % campaigns]))
    RosterEntry.objects.bulk_create(entries, batch_size=5000)
    user, _ = User.objects.get_or_create(username="bench-supervisor")
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])


def _measure(agents: int, campaigns: int, n: int) -> dict:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench._sim import percentile

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="bench-supervisor"))
    row = {"agents": agents, "campaigns": campaigns}
    refresh = {"HX-Request": "true", "HX-Target": "board-columns"}
    # The revision the poll compares includes the top bar's health: read it as the page sends it.
    first = client.get("/", headers=refresh).content.decode()
    revision = re.search(r'"rev": "([0-9a-f]+)"', first).group(1)
    for name, headers, params, status in (
        ("page", {}, {}, 200),
        ("columns", refresh, {}, 200),
        ("current", refresh, {"rev": revision}, 204),  # the 1 s poll when nothing changed
    ):
        client.get("/", params, headers=headers)  # warm up
        times = []
        for _ in range(n):
            start = time.perf_counter()
            response = client.get("/", params, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == status, response.status_code
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/", params, headers=headers)
        row[name] = {
            "p50_ms": round(percentile(times, 50), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "queries": len(queries),
            "kb": round(len(response.content) / 1024),
        }
    return row


def _print(rows: list[dict], args) -> None:
    print(f"Board render, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}")
    print(f"{os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL, in-process")
    print(f"{args.requests} renders per figure\n")
    header = f"{'agents':>7} {'view':<8} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'KiB':>6}"
    print(header)
    print("-" * len(header))
    for row in rows:
        for view in ("page", "columns", "current"):
            f = row[view]
            print(
                f"{row['agents']:>7} {view:<8} {f['p50_ms']:>8} {f['p95_ms']:>8} "
                f"{f['queries']:>8} {f['kb']:>6}"
            )
    counts = {row["page"]["queries"] for row in rows}
    print(
        "\nSQL queries per page render: "
        + ("constant" if len(counts) == 1 else f"NOT constant: {sorted(counts)}")
    )
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "board_render.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
