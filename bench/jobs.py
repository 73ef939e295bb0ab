"""The allocation engine end to end: job latency, jobs per second, a 1,000-agent move.

Usage: .venv/bin/python bench/jobs.py [--latency-jobs 60] [--throughput-jobs 300] [--quick]
       [--database-url postgres://postgres@127.0.0.1:5432/postgres]
       [--redis-url redis://127.0.0.1:6379/14]

Real parts, as production runs them: gunicorn serving the JSON API, Celery workers on the Redis
broker, a scratch PostgreSQL database (``bench_jobs``, dropped at the end) and the ICWS simulator
in its own process (generated seed, 1,500 agents; moves apply after 10 ms).

1. Latency: one job at a time, ``POST /api/allocations`` (token auth) until ``GET`` shows
   ``succeeded`` (polled every 5 ms), next to a bare ``IcwsClient.allocate_agents`` call.
2. Throughput: N one-agent jobs submitted at once (8 client threads), with 1 and then 2 worker
   processes (concurrency 1 each); jobs/s from the first POST to the last ``succeeded``.
3. One move of 1,000 agents: how many allocate-agents calls reach ICWS (``ALLOCATION_BATCH_SIZE``
   per call) and how long until ``succeeded``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._db import DEFAULT_ADMIN_URL, drop, recreate  # noqa: E402
from bench._sim import free_port, percentile, simulator_process, wait_http  # noqa: E402

SCRATCH_DB = os.environ.get("BENCH_JOBS_DB", "bench_jobs")  # two runs at once: differ
ICWS_USER, ICWS_PASSWORD = "svc_dashboard", "svc-dashboard-demo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-jobs", type=int, default=60)
    parser.add_argument("--throughput-jobs", type=int, default=300)
    parser.add_argument("--big-move", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="10 / 40 jobs, a 300-agent move")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    args = parser.parse_args()
    if args.quick:
        args.latency_jobs, args.throughput_jobs, args.big_move = 10, 40, 300

    with simulator_process("--generate", "1500,20", "--apply-delay", "0.01") as sim:
        database_url = recreate(args.database_url, SCRATCH_DB)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": args.redis_url,
            "REDIS_URL": args.redis_url,
            "ICWS_BASE_URL": sim,
            "ICWS_USER": ICWS_USER,
            "ICWS_PASSWORD": ICWS_PASSWORD,
            # Production settings, minus TLS (the bench talks plain HTTP on loopback).
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-only-" + "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_HSTS_SECONDS": "0",
            "DASHBOARD_DEMO": "1",
            "DASHBOARD_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        }
        os.environ.update(env)
        try:
            token, agents, campaigns = _prepare(args.redis_url)
            result = _measure(args, env, sim, token, agents, campaigns)
        finally:
            from django.db import connections

            connections.close_all()
            drop(args.database_url, SCRATCH_DB)
    _print(result, args)


def _prepare(redis_url: str):
    """Migrate, sync the directory from the simulator, make a supervisor and its API token."""
    import django

    django.setup()
    import redis
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from dashboard.accounts.models import ApiToken
    from dashboard.directory.models import Agent, Campaign
    from dashboard.directory.selectors import roster_of

    redis.Redis.from_url(redis_url).flushdb()
    call_command("migrate", verbosity=0)
    call_command("sync_directory", seed_roster_from_simulator=True)
    user = User.objects.create_user("bench-supervisor")
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    token = "bench-token-" + "y" * 32
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash(token), prefix=token[:8])
    campaigns = list(Campaign.objects.order_by("id").values_list("id", flat=True))
    roster = roster_of(Agent.objects.values_list("id", flat=True))
    return token, roster, campaigns


@contextlib.contextmanager
def _processes(commands: list[list[str]], env: dict):
    # Banners and access logs off; warnings and errors still reach stderr.
    procs = [subprocess.Popen(c, cwd=ROOT, env=env, stdout=subprocess.DEVNULL) for c in commands]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _workers(count: int) -> list[list[str]]:
    return [
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dashboard",
            "worker",
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--hostname",
            f"bench{i}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        for i in range(count)
    ]


def _measure(args, env, sim, token, roster, campaigns) -> dict:
    from dashboard.allocations.models import AllocationJob

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = [
        sys.executable,
        "-m",
        "gunicorn",
        "dashboard.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "4",
        "--log-level",
        "warning",
    ]
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    # Agents in exactly one campaign, each moved between it and the next campaign.
    movable = [(a, cs[0]) for a, cs in sorted(roster.items()) if len(cs) == 1]
    target = {c: campaigns[(i + 1) % len(campaigns)] for i, c in enumerate(campaigns)}
    result: dict = {"agents": len(roster), "campaigns": len(campaigns)}

    def post(agent_ids, ins, outs) -> int:
        r = api.post(
            f"{base}/api/allocations",
            json={"agent_ids": agent_ids, "campaign_ids_in": ins, "campaign_ids_out": outs},
            timeout=30,
        )
        assert r.status_code == 202, r.text
        return r.json()["id"]

    with _processes([web], env):
        wait_http(f"{base}/healthz")
        result["floor"] = _bare_client(sim, movable[0], target[movable[0][1]], args.latency_jobs)

        with _processes(_workers(1), env):
            _wait_worker(api, base, post, movable[1], target)
            # 1. latency, one job at a time
            latencies, server = [], []
            agent, home = movable[2]
            for i in range(args.latency_jobs):
                ins, outs = ([target[home]], [home]) if i % 2 == 0 else ([home], [target[home]])
                start = time.perf_counter()
                job_id = post([agent], ins, outs)
                while True:
                    status = api.get(f"{base}/api/allocations/{job_id}", timeout=10).json()
                    if status["status"] in ("succeeded", "failed", "cancelled"):
                        break
                    time.sleep(0.005)
                latencies.append((time.perf_counter() - start) * 1000)
                assert status["status"] == "succeeded", status
                job = AllocationJob.objects.get(pk=job_id)
                server.append((job.finished_at - job.created_at).total_seconds() * 1000)
            result["latency"] = _stats(latencies)
            result["server_latency"] = _stats(server)
            result["throughput_1"] = _throughput(post, movable[3:], target, args.throughput_jobs)
        with _processes(_workers(2), env):
            _wait_worker(api, base, post, movable[1], target)
            # The previous run moved these agents to their targets: bring them back.
            back = [(a, target[h]) for a, h in movable[3 : 3 + args.throughput_jobs]]
            back_target = {target[h]: h for _, h in movable[3 : 3 + args.throughput_jobs]}
            result["throughput_2"] = _throughput(post, back, back_target, args.throughput_jobs)

            # 3. one big move: agents of the two largest campaigns' members not already in target
            big_target = campaigns[0]
            big = sorted(a for a, cs in roster.items() if big_target not in cs)[: args.big_move]
            calls_before = len(requests.get(f"{sim}/sim/moves", timeout=10).json())
            start = time.perf_counter()
            job_id = post(big, [big_target], [])
            job = _wait_done([job_id], timeout=600)[0]
            seconds = time.perf_counter() - start
            calls = len(requests.get(f"{sim}/sim/moves", timeout=10).json()) - calls_before
            result["big_move"] = {
                "agents": len(big),
                "status": job.status,
                "seconds": round(seconds, 2),
                "icws_calls": calls,
                "batches": job.batches.count(),
                "batch_size": int(os.environ.get("ALLOCATION_BATCH_SIZE", "100")),
            }
    return result


def _wait_worker(api, base, post, first, target) -> None:
    """A throwaway job proves the worker is consuming before anything is timed."""
    agent, home = first
    job_id = post([agent], [target[home]], [home])
    _wait_done([job_id], timeout=120)
    job_id = post([agent], [home], [target[home]])
    _wait_done([job_id], timeout=120)


def _wait_done(job_ids: list[int], timeout: float):
    from dashboard.allocations.models import AllocationJob

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = list(AllocationJob.objects.filter(pk__in=job_ids))
        if all(j.is_terminal for j in jobs) and len(jobs) == len(job_ids):
            return sorted(jobs, key=lambda j: job_ids.index(j.pk))
        time.sleep(0.02)
    raise RuntimeError(f"jobs did not finish within {timeout} s")


def _throughput(post, movable, target, n: int) -> dict:
    picks = movable[:n]
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda p: post([p[0]], [target[p[1]]], [p[1]]), picks))
    submitted = time.perf_counter() - start
    jobs = _wait_done(ids, timeout=900)
    seconds = time.perf_counter() - start
    statuses = {j.status for j in jobs}
    return {
        "jobs": len(ids),
        "seconds": round(seconds, 2),
        "jobs_per_s": round(len(ids) / seconds, 1),
        "submit_s": round(submitted, 2),
        "statuses": sorted(statuses),
    }


def _bare_client(sim: str, pick, other: str, n: int) -> dict:
    from icws_client import IcwsClient

    agent, home = pick
    client = IcwsClient(sim, ICWS_USER, ICWS_PASSWORD)
    client.connect()
    times = []
    for i in range(n + 5):
        ins, outs = ([other], [home]) if i % 2 == 0 else ([home], [other])
        start = time.perf_counter()
        client.allocate_agents([agent], campaign_ids_in=ins, campaign_ids_out=outs)
        if i >= 5:  # the first few warm the connection
            times.append((time.perf_counter() - start) * 1000)
    if (n + 5) % 2:  # leave the agent where the roster says it is
        client.allocate_agents([agent], campaign_ids_in=[home], campaign_ids_out=[other])
    client.close()
    return _stats(times)


def _stats(ms: list[float]) -> dict:
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
    }


def _print(r: dict, args) -> None:
    print(f"Allocation jobs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}")
    print(
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; gunicorn 2x4, PostgreSQL, "
        f"Redis broker, simulator ({r['agents']} agents, {r['campaigns']} campaigns)\n"
    )
    lat, srv, floor = r["latency"], r["server_latency"], r["floor"]
    print(f"{'':<46} {'p50 ms':>8} {'p95 ms':>8} {'n':>5}")
    print(
        f"{'POST /api/allocations -> GET shows succeeded':<46} {lat['p50_ms']:>8} "
        f"{lat['p95_ms']:>8} {lat['n']:>5}"
    )
    print(
        f"{'  job created_at -> finished_at (server side)':<46} {srv['p50_ms']:>8} "
        f"{srv['p95_ms']:>8} {srv['n']:>5}"
    )
    print(
        f"{'bare IcwsClient.allocate_agents (floor)':<46} {floor['p50_ms']:>8} "
        f"{floor['p95_ms']:>8} {floor['n']:>5}"
    )
    print(f"\nlatency / floor (p50): {lat['p50_ms'] / floor['p50_ms']:.1f}x\n")
    for workers in (1, 2):
        t = r[f"throughput_{workers}"]
        print(
            f"{workers} worker(s): {t['jobs']} one-agent jobs in {t['seconds']} s = "
            f"{t['jobs_per_s']} jobs/s (all submitted after {t['submit_s']} s; "
            f"final states {', '.join(t['statuses'])})"
        )
    b = r["big_move"]
    print(
        f"\nOne move of {b['agents']} agents: {b['icws_calls']} allocate-agents calls "
        f"({b['batches']} batches of up to {b['batch_size']}), {b['status']} after "
        f"{b['seconds']} s"
    )
    _print_goals(r)
    summary_rows = [
        f"| job latency POST -> succeeded | p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms | "
        f"bare client call: p50 {floor['p50_ms']} ms | {lat['p50_ms'] / floor['p50_ms']:.1f}x |",
        f"| jobs per second, 1 / 2 workers | {r['throughput_1']['jobs_per_s']} / "
        f"{r['throughput_2']['jobs_per_s']} jobs/s | 1 / p50 bare call: "
        f"{1000 / floor['p50_ms']:.0f} calls/s | "
        f"{r['throughput_2']['jobs_per_s'] / r['throughput_1']['jobs_per_s']:.2f}x (2 vs 1) |",
        f"| {b['agents']}-agent move | {b['icws_calls']} ICWS calls, {b['seconds']} s | "
        f"{b['batches']} batches | - |",
    ]
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "jobs.json").write_text(json.dumps({**r, "summary_rows": summary_rows}, indent=2))


# Issue 14: the figures before the engine work (bench/RESULTS.md, same machine) and the goals.
BEFORE = {"jobs_1": 25.9, "jobs_2": 35.6, "server_p95": 39.0}
GOALS = {"jobs_2": 200.0, "server_p95": 20.0, "post_p95": 50.0, "big_move_s": 2.0}


def _print_goals(r: dict) -> None:
    lat, srv, b = r["latency"], r["server_latency"], r["big_move"]
    rows = [
        ("jobs/s, 1 worker", BEFORE["jobs_1"], r["throughput_1"]["jobs_per_s"], None, True),
        (
            "jobs/s, 2 workers",
            BEFORE["jobs_2"],
            r["throughput_2"]["jobs_per_s"],
            GOALS["jobs_2"],
            True,
        ),
        (
            "created -> finished p95 ms",
            BEFORE["server_p95"],
            srv["p95_ms"],
            GOALS["server_p95"],
            False,
        ),
        ("POST -> succeeded p95 ms", None, lat["p95_ms"], GOALS["post_p95"], False),
        (f"{b['agents']}-agent move s", None, b["seconds"], GOALS["big_move_s"], False),
    ]
    print(f"\n{'':<30} {'before':>8} {'now':>8} {'ratio':>7} {'goal':>8}  met")
    for name, before, now, goal, higher in rows:
        ratio = f"{now / before:.2f}x" if before else "-"
        met = "-" if goal is None else ("yes" if (now >= goal if higher else now <= goal) else "NO")
        print(
            f"{name:<30} {before if before is not None else '-':>8} {now:>8} {ratio:>7} "
            f"{goal if goal is not None else '-':>8}  {met}"
        )
    print(f"load average while measuring: {os.getloadavg()}")


if __name__ == "__main__":
    main()
