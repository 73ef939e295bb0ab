"""The allocation engine end to end: job latency, jobs per second, a 5,000-agent move.

Usage: .venv/bin/python bench/jobs.py [--latency-jobs 60] [--throughput-jobs 300] [--quick]
       [--database-url postgres://postgres@127.0.0.1:5432/postgres]
       [--redis-url redis://127.0.0.1:6379/14]

Real parts, as production runs them: gunicorn serving the JSON API, Celery workers on the Redis
broker, a scratch PostgreSQL database (``bench_jobs``, dropped at the end) and the ICWS simulator
in its own process (generated seed, 5,500 agents; moves apply after 10 ms).

1. Latency: one job at a time, ``POST /api/allocations`` (token auth) until ``GET`` shows
   ``succeeded`` (polled every 5 ms), next to a bare ``IcwsClient.allocate_agents`` call.
2. Throughput: N one-agent jobs submitted at once (8 client threads), with 1 and then 2 worker
   processes (concurrency 1 each unless ``--concurrency``); jobs/s from the first POST to the
   last ``succeeded``; worker CPU per job (user + system time of the worker processes, from
   /proc); zero lost and each applied once, checked against the simulator's log of applied
   moves. The moves go between many campaign pairs (little to coalesce); a third run moves N
   agents between one pair with 2 workers, where coalescing sends many jobs per ICWS call; and a
   backlog of N jobs queued while no worker runs, drained by 2 workers (timed from the first
   start to the last finish, so the POST rate does not limit it).
3. One move of 5,000 agents (``--big-move``): how many allocate-agents calls reach ICWS
   (``ALLOCATION_BATCH_SIZE`` per call) and how long until ``succeeded``.
4. SQL statements per one-agent job (submit + run), counted in this process on the same
   database with Django's ``execute_wrapper``.

Figures are printed next to issue 14's before-figures and goals, with the load average.
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
SIM_AGENTS, SIM_CAMPAIGNS = 5500, 20


def agent_workgroups() -> list[str]:
    """The generated seed's dialer workgroups: ICWS_AGENT_WORKGROUPS names them (as an operator
    names a real server's), or the directory sync finds no agents."""
    from icws_client.simulator.seed import generate_seed

    seed = generate_seed(SIM_AGENTS, SIM_CAMPAIGNS)
    return sorted({c["workgroup"] for c in seed["campaigns"]})


def _at_least_one(text: str) -> int:
    """A count of 0 ends the bench only after minutes of setup: 0 jobs divide by zero (jobs/s,
    percentiles) and a move of 0 agents is refused by the API (a 400, not the 202 it waits for),
    so argparse refuses it up front."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-jobs", type=_at_least_one, default=60)
    parser.add_argument("--throughput-jobs", type=_at_least_one, default=300)
    parser.add_argument("--big-move", type=_at_least_one, default=5000)
    parser.add_argument(
        "--quick", action="store_true", help="20 / 100 jobs, still the 5,000-agent move"
    )
    parser.add_argument(
        "--latency-only",
        action="store_true",
        help="only the lone-job latency and its phases (quick A/B of the engine's latency)",
    )
    parser.add_argument(
        "--worker-pool",
        default=os.environ.get("BENCH_WORKER_POOL", ""),
        help="the workers' --pool (default: the settings' CELERY_WORKER_POOL)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("BENCH_WORKER_CONCURRENCY", "1")),
        help="each worker's --concurrency (default 1)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    args = parser.parse_args()
    if args.quick:
        args.latency_jobs, args.throughput_jobs = 20, 100

    with simulator_process(
        "--generate", f"{SIM_AGENTS},{SIM_CAMPAIGNS}", "--apply-delay", "0.01"
    ) as sim:
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
            "ICWS_AGENT_WORKGROUPS": ",".join(agent_workgroups()),
            # libpq's application name tells the database backends apart (_CpuWatch): the
            # bench's own, the web server's (_measure) and the workers' (_workers).
            "PGAPPNAME": "bench",
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


def _workers(count: int, pool: str = "", concurrency: int = 1) -> list[list[str]]:
    return [
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dashboard",
            "worker",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "--hostname",
            f"bench{i}@%h",
            "--without-gossip",
            "--without-mingle",
            *(["--pool", pool] if pool else []),
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
    n = args.throughput_jobs

    def post(agent_ids, ins, outs) -> int:
        r = api.post(
            f"{base}/api/allocations",
            json={"agent_ids": agent_ids, "campaign_ids_in": ins, "campaign_ids_out": outs},
            timeout=30,
        )
        assert r.status_code == 202, r.text
        return r.json()["id"]

    with _processes([web], {**env, "PGAPPNAME": "bench-web"}) as web_procs:
        wait_http(f"{base}/healthz")
        result["floor"] = _bare_client(sim, movable[0], target[movable[0][1]], args.latency_jobs)

        worker_env = {**env, "PGAPPNAME": "bench-worker"}
        with _processes(_workers(1, args.worker_pool, args.concurrency), worker_env) as workers:
            _wait_worker(api, base, post, movable[1], target)
            # 1. latency, one job at a time
            latencies, server, phases = [], [], []
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
                phases.append(_phases(job))
            result["latency"] = _stats(latencies)
            result["server_latency"] = _stats(server)
            result["phases"] = {name: _stats([p[name] for p in phases]) for name in phases[0]}
            if args.latency_only:
                result["uptime"] = _uptime()
                return result
            picks = [(a, h, target[h]) for a, h in movable[3 : 3 + n]]
            watch = _CpuWatch(web_procs[0], workers)
            result["throughput_1"] = _throughput(post, sim, picks, workers, watch)
        # A backlog: N jobs queued while no worker runs (the previous run moved these agents
        # to their targets: they go back), then drained by 2 workers. Timed from the first
        # job's start to the last one's finish, so the POST rate does not limit it.
        back = [(a, t, h) for a, h, t in picks]
        backlog = [post([a], [t], [h]) for a, h, t in back]
        with _processes(_workers(2, args.worker_pool, args.concurrency), worker_env) as workers:
            result["drain_2"] = _drained(_wait_done(backlog, timeout=900))
            _wait_worker(api, base, post, movable[1], target)
            fresh = [(a, h, target[h]) for a, h in movable[3 + n : 3 + 2 * n]]
            watch = _CpuWatch(web_procs[0], workers)
            result["throughput_2"] = _throughput(post, sim, fresh, workers, watch)
            # One campaign pair for every job: what coalescing is for.
            pair = _one_pair(roster, movable[3 + 2 * n :], n)
            if pair:
                result["throughput_pair"] = _throughput(post, sim, pair, workers, watch)

            # 3. one big move: agents not already in the target campaign
            big_target = campaigns[0]
            big = sorted(a for a, cs in roster.items() if big_target not in cs)[: args.big_move]
            calls_before = len(requests.get(f"{sim}/sim/moves", timeout=10).json())
            start = time.perf_counter()
            job_id = post(big, [big_target], [])
            posted = time.perf_counter() - start
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
                # Where the time went: the POST (submit), the queue, the run.
                "post_s": round(posted, 2),
                "queued_s": _seconds(job.created_at, job.started_at),
                "run_s": _seconds(job.started_at, job.finished_at),
            }
    result["statements"] = _statements_per_job(movable[-1], target)
    result["uptime"] = _uptime()
    return result


def _seconds(a, b) -> float | None:
    return round((b - a).total_seconds(), 2) if a and b else None


def _phases(job) -> dict[str, float]:
    """Where a lone job's time went, from the rows' own timestamps (ms): the POST's remaining
    writes, the broker and the worker's pick-up until the claim stamps ``started_at``; the rest
    of the claim until the batch is marked sent; the ICWS call and the fence until the job's
    ``finished_at``; and the outcome's remaining writes until its "succeeded" row is stamped."""
    from dashboard.audit.models import AuditEvent

    batch = job.batches.get()
    done = AuditEvent.objects.get(job=job, kind=AuditEvent.Kind.SUCCEEDED).at

    def ms(a, b) -> float:
        return (b - a).total_seconds() * 1000

    return {
        "created -> claim stamps started_at": ms(job.created_at, job.started_at),
        "started_at -> batch sent_at": ms(job.started_at, batch.sent_at),
        "sent_at -> job finished_at": ms(batch.sent_at, job.finished_at),
        "finished_at -> succeeded row at": ms(job.finished_at, done),
    }


def _drained(jobs) -> dict:
    started = min(j.started_at for j in jobs)
    finished = max(j.finished_at for j in jobs)
    seconds = (finished - started).total_seconds()
    return {
        "jobs": len(jobs),
        "seconds": round(seconds, 2),
        "jobs_per_s": round(len(jobs) / seconds, 1),
        "succeeded": sum(j.status == "succeeded" for j in jobs),
        "attempts": sum(j.attempts for j in jobs),
    }


def _one_pair(roster, movable, n: int) -> list[tuple[str, str, str]]:
    """Up to ``n`` agents of the most common campaign among ``movable``, each moved to one
    other campaign none of them is in."""
    counts: dict[str, int] = {}
    for _, home in movable:
        counts[home] = counts.get(home, 0) + 1
    if not counts:
        return []
    source = max(counts, key=counts.get)
    agents = [a for a, home in movable if home == source][:n]
    others = sorted({c for cs in roster.values() for c in cs} - {source})
    return [(a, source, others[0]) for a in agents]


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
    rows = AllocationJob.objects.filter(pk__in=job_ids)
    while time.monotonic() < deadline:
        # A count per poll, the rows once: loading 300 jobs as models every 20 ms took this
        # process 3-8 ms of CPU per job measured, on the two cores the measured system runs on.
        if rows.filter(status__in=AllocationJob.TERMINAL).count() == len(set(job_ids)):
            jobs = list(rows)
            return sorted(jobs, key=lambda j: job_ids.index(j.pk))
        time.sleep(0.02)
    raise RuntimeError(f"jobs did not finish within {timeout} s")


def _throughput(post, sim, picks, workers, watch) -> dict:
    """``picks``: (agent, from campaign, to campaign), one job each, all submitted at once."""
    moves_before = len(requests.get(f"{sim}/sim/moves", timeout=10).json())
    cpu_before = _cpu_seconds(workers)
    by_process = watch.snapshot()
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda p: post([p[0]], [p[2]], [p[1]]), picks))
    submitted = time.perf_counter() - start
    jobs = _wait_done(ids, timeout=900)
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds(workers) - cpu_before
    by_process = watch.since(by_process)
    applied = _applied(sim, moves_before, len(picks))
    wanted = {p[0] for p in picks}
    counts = {a: 0 for a in wanted}
    for move in applied:
        for agent in move["agentIds"]:
            if agent in counts:
                counts[agent] += 1
    return {
        "jobs": len(ids),
        "seconds": round(seconds, 2),
        "jobs_per_s": round(len(ids) / seconds, 1),
        "submit_s": round(submitted, 2),
        "statuses": sorted({j.status for j in jobs}),
        "succeeded": sum(j.status == "succeeded" for j in jobs),
        "lost": sum(1 for c in counts.values() if c == 0),
        "applied_twice": sum(1 for c in counts.values() if c > 1),
        "icws_calls": len(applied),
        "worker_cpu_ms_per_job": round(cpu * 1000 / len(ids), 1),
        "cpu_ms_per_job": {k: round(v * 1000 / len(ids), 2) for k, v in by_process.items()},
    }


def _applied(sim: str, before: int, expected: int, timeout: float = 30) -> list[dict]:
    """The moves the simulator applied since ``before`` (it applies 10 ms after the 202)."""
    deadline = time.monotonic() + timeout
    while True:
        moves = requests.get(f"{sim}/sim/moves", timeout=10).json()[before:]
        agents = sum(len(m["agentIds"]) for m in moves)
        if agents >= expected or time.monotonic() > deadline:
            return moves
        time.sleep(0.1)


def _cpu_seconds(workers) -> float:
    """User + system CPU of the worker processes and their children (prefork), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in workers:
        for pid in _tree(proc.pid):
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
    return total


class _CpuWatch:
    """User + system CPU of every process a throughput run keeps busy, by group, from /proc:
    gunicorn, the workers, the simulator, this process (the 8 client threads, the polling), the
    database backends by application name (web, worker, bench), Redis (shared with anything
    else on the server) and the whole machine (/proc/stat, other users included). A backend
    that exits during the run takes its CPU with it (the web's and workers' stay connected)."""

    def __init__(self, web, workers):
        self.web, self.workers = web, workers
        self.sim = [
            p
            for p in _tree(os.getpid())[1:]
            if b"icws_client.simulator" in _read(f"/proc/{p}/cmdline")
        ]
        self.redis = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _read(f"/proc/{p.name}/comm").strip() == b"redis-server"
        ]

    def _groups(self) -> dict[str, list[int]]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, application_name FROM pg_stat_activity "
                "WHERE datname = current_database()"
            )
            backends = cursor.fetchall()
        groups = {
            "gunicorn": _tree(self.web.pid),
            "workers": [p for w in self.workers for p in _tree(w.pid)],
            "simulator": self.sim,
            "bench": [os.getpid()],  # split by thread in snapshot()
            "redis (shared)": self.redis,
        }
        for group, app_name in (("pg web", "bench-web"), ("pg worker", "bench-worker")):
            groups[group] = [p for p, app in backends if app == app_name]
        groups["pg bench"] = [p for p, app in backends if app == "bench"]
        return groups

    def snapshot(self) -> dict:
        cpu = {g: {p: _pid_cpu(p) for p in pids} for g, pids in self._groups().items()}
        # This process: its main thread polls for the jobs' ends; the rest is the client
        # threads that POST (their CPU stays in the process's total after they exit).
        me = os.getpid()
        main = _pid_cpu(me, f"/proc/{me}/task/{me}/stat")
        cpu["bench polling"] = {me: main}
        cpu["bench clients"] = {me: cpu.pop("bench")[me] - main}
        return {"pids": cpu, "machine": _machine_busy()}

    def since(self, before: dict) -> dict[str, float]:
        now = self.snapshot()
        out = {
            g: sum(c - before["pids"].get(g, {}).get(p, 0.0) for p, c in pids.items())
            for g, pids in now["pids"].items()
        }
        out["machine"] = now["machine"] - before["machine"]
        return out


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def _pid_cpu(pid: int, path: str = "") -> float:
    """User + system CPU seconds of one process (all its threads), 0 if it is gone."""
    stat = _read(path or f"/proc/{pid}/stat").decode()
    if not stat:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy (every core, user + nice + system + irq)."""
    fields = [int(v) for v in _read("/proc/stat").split(b"\n", 1)[0].split()[1:]]
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
    return busy / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return pids


def _statements_per_job(pick, target) -> dict:
    """SQL statements of one one-agent job, counted in this process: the submit (as the API's
    POST runs it, without the HTTP and auth around it) and the run (as a worker runs it)."""
    from unittest import mock

    from django.contrib.auth.models import User
    from django.db import connection

    from dashboard.allocations import execute, submit, together
    from dashboard.icws import new_client

    agent, home = pick
    user = User.objects.get(username="bench-supervisor")
    client = new_client()
    counts = {}
    with mock.patch.object(submit, "_enqueue_on_commit"):
        for name in ("submit", "execute"):
            seen: list[str] = []

            def count(run, sql, params, many, context, seen=seen):
                seen.append(sql)
                return run(sql, params, many, context)

            with connection.execute_wrapper(count):
                if name == "submit":
                    job, _ = submit.job_submit(
                        actor=user,
                        agent_ids=[agent],
                        campaign_ids_in=[target[home]],
                        campaign_ids_out=[home],
                    )
                else:
                    outcome = execute.job_execute(job_id=job.pk, client=client)
                    assert outcome.status == "succeeded", outcome
            counts[name] = sum(sql.count(together.SEPARATOR) + 1 for sql in seen)
            counts[name + "_round_trips"] = len(seen)
    client.close()
    return counts


def _uptime() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    return f"load average {os.getloadavg()}"


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
        f"Redis broker, simulator ({r['agents']} agents, {r['campaigns']} campaigns); workers "
        f"--concurrency {args.concurrency}{f' --pool {args.worker_pool}' * bool(args.worker_pool)}"
    )
    print(f"load: {r['uptime']}\n")
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
    for name, st in r["phases"].items():
        print(f"{'    ' + name:<46} {st['p50_ms']:>8} {st['p95_ms']:>8} {st['n']:>5}")
    print(f"\nlatency / floor (p50): {lat['p50_ms'] / floor['p50_ms']:.1f}x\n")
    if args.latency_only:
        print(f"load: {r['uptime']}")
        return
    runs = [("1 worker", "throughput_1"), ("2 workers", "throughput_2")]
    runs += [("2 workers, one campaign pair", "throughput_pair")] * ("throughput_pair" in r)
    for label, key in runs:
        t = r[key]
        print(
            f"{label}: {t['jobs']} one-agent jobs in {t['seconds']} s = {t['jobs_per_s']} jobs/s "
            f"(submitted after {t['submit_s']} s; {t['icws_calls']} allocate-agents calls; "
            f"{t['succeeded']} succeeded, {t['lost']} lost, {t['applied_twice']} applied twice; "
            f"worker CPU {t['worker_cpu_ms_per_job']} ms/job)"
        )
        parts = ", ".join(f"{k} {v}" for k, v in t["cpu_ms_per_job"].items())
        print(f"    CPU ms/job by process: {parts}")
    d = r["drain_2"]
    print(
        f"2 workers draining a backlog of {d['jobs']} queued jobs: {d['jobs_per_s']} jobs/s "
        f"({d['seconds']} s from the first start to the last finish; {d['succeeded']} succeeded)"
    )
    b = r["big_move"]
    print(
        f"\nOne move of {b['agents']} agents: {b['icws_calls']} allocate-agents calls "
        f"({b['batches']} batches of up to {b['batch_size']}), {b['status']} after "
        f"{b['seconds']} s (POST answered after {b.get('post_s')} s; created -> started "
        f"{b.get('queued_s')} s, started -> finished {b.get('run_s')} s)"
    )
    st = r["statements"]
    print(
        f"SQL statements per one-agent job: {st['submit']} submit + {st['execute']} run = "
        f"{st['submit'] + st['execute']} (round trips: {st['submit_round_trips']} + "
        f"{st['execute_round_trips']}, BEGIN/COMMIT aside)"
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


# Issue 14: the figures before the engine work (bench/RESULTS.md and the issue, same machine)
# and the goals. Statements: submit 12 + run 34, counted before the two-transaction run.
BEFORE = {
    "jobs_1": 25.9,
    "jobs_2": 35.6,
    "server_p95": 39.0,
    "post_p95": 62.3,
    "cpu_ms": 50.0,
    "statements": 46,
}
GOALS = {"jobs_2": 200.0, "server_p95": 20.0, "post_p95": 50.0, "big_move_s": 2.0}


def _print_goals(r: dict) -> None:
    lat, srv, b = r["latency"], r["server_latency"], r["big_move"]
    t1, t2 = r["throughput_1"], r["throughput_2"]
    statements = r["statements"]["submit"] + r["statements"]["execute"]
    rows = [
        ("jobs/s, 1 worker", BEFORE["jobs_1"], t1["jobs_per_s"], None, True),
        ("jobs/s, 2 workers", BEFORE["jobs_2"], t2["jobs_per_s"], GOALS["jobs_2"], True),
    ]
    if "throughput_pair" in r:
        rows.append(
            (
                "jobs/s, 2 workers, one pair",
                None,
                r["throughput_pair"]["jobs_per_s"],
                GOALS["jobs_2"],
                True,
            )
        )
    rows.append(
        ("jobs/s, 2 workers, backlog", None, r["drain_2"]["jobs_per_s"], GOALS["jobs_2"], True)
    )
    rows += [
        (
            "created -> finished p95 ms",
            BEFORE["server_p95"],
            srv["p95_ms"],
            GOALS["server_p95"],
            False,
        ),
        ("POST -> succeeded p95 ms", BEFORE["post_p95"], lat["p95_ms"], GOALS["post_p95"], False),
        (f"{b['agents']}-agent move s", None, b["seconds"], GOALS["big_move_s"], False),
        (
            "worker CPU ms/job (2 workers)",
            BEFORE["cpu_ms"],
            t2["worker_cpu_ms_per_job"],
            None,
            False,
        ),
        ("SQL statements per job", BEFORE["statements"], statements, None, False),
    ]
    print(f"\n{'':<30} {'before':>8} {'now':>8} {'ratio':>7} {'goal':>8}  met")
    for name, before, now, goal, higher in rows:
        ratio = f"{now / before:.2f}x" if before else "-"
        met = "-" if goal is None else ("yes" if (now >= goal if higher else now <= goal) else "NO")
        print(
            f"{name:<30} {before if before is not None else '-':>8} {now:>8} {ratio:>7} "
            f"{goal if goal is not None else '-':>8}  {met}"
        )
    lost = sum(r[k]["lost"] + r[k]["applied_twice"] for k in ("throughput_1", "throughput_2"))
    print(f"zero lost, each applied once: {'yes' if lost == 0 else 'NO'}")
    print(f"load: {r['uptime']}")


if __name__ == "__main__":
    main()
