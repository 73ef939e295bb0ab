"""The web side of a move: POST /api/allocations from 8 clients, and 20 supervisors at work.

Usage: .venv/bin/python bench/api_post.py [--seconds 15] [--quick]
       [--database-url postgres://postgres@127.0.0.1:5432/postgres]
       [--redis-url redis://127.0.0.1:6379/14]
       .venv/bin/python bench/api_post.py --in-process 2000 [--profile post.prof]

gunicorn as shipped (``gunicorn.conf.py``: gthread, ``GUNICORN_WORKERS`` x ``GUNICORN_THREADS``),
the JSON API with token auth, a scratch PostgreSQL database (``bench_api_post``, dropped at the
end), the Redis broker and the ICWS simulator in its own process (the same generated seed as
``bench/jobs.py``).

1. Flood: 8 client threads POST one-agent moves back to back for ``--seconds``; no Celery
   worker runs, so what is measured is the request alone (validation, roles and scope, one write
   transaction, the broker publish). POSTs/s and latency.
2. Supervisors: once the flood's jobs are finished, 20 client threads, each POSTs a move, GETs
   its job every 200 ms until it is finished (at most 10 times), then pauses 1 s; one Celery
   worker runs the jobs. POST and job GET latency.

Figures are printed next to issue 14's before-figures and goals, with the load average.

``--in-process N``: instead, N token POSTs one after another through Django's WSGI handler in
this process (the same middleware, API and publish; no gunicorn, no client threads), and the
CPU per POST of this process and of its PostgreSQL backend. On a shared machine this is the
steadier figure for comparing two versions of the code (interleave them: A, B, A, B);
``--profile FILE`` writes a cProfile of the POSTs (CPU time) and prints the top of it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._db import DEFAULT_ADMIN_URL, drop, recreate  # noqa: E402
from bench._sim import free_port, percentile, simulator_process, wait_http  # noqa: E402
from bench.jobs import (  # noqa: E402
    ICWS_PASSWORD,
    ICWS_USER,
    SIM_AGENTS,
    SIM_CAMPAIGNS,
    _cpu_seconds,
    _prepare,
    _processes,
    _uptime,
    _workers,
    agent_workgroups,
)

SCRATCH_DB = os.environ.get("BENCH_API_POST_DB", "bench_api_post")
# Issue 14: before (8 clients: about 90 POSTs/s; 20 supervisors: POST p95 766 ms) and goals.
BEFORE = {"posts_per_s": 90.0, "sup_post_p95": 766.0}
GOALS = {"posts_per_s": 400.0, "sup_post_p95": 150.0, "sup_get_p95": 50.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--quick", action="store_true", help="5 s per phase")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument("--in-process", type=int, default=0, metavar="N")
    parser.add_argument("--profile", default="", metavar="FILE")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 5.0

    with simulator_process(
        "--generate", f"{SIM_AGENTS},{SIM_CAMPAIGNS}", "--apply-delay", "0.01"
    ) as sim:
        database_url = recreate(args.database_url, SCRATCH_DB)
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": args.redis_url,
            "REDIS_URL": args.redis_url,
            "ICWS_BASE_URL": sim,
            "ICWS_USER": ICWS_USER,
            "ICWS_PASSWORD": ICWS_PASSWORD,
            "ICWS_AGENT_WORKGROUPS": ",".join(agent_workgroups()),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-only-" + "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_HSTS_SECONDS": "0",
            "DASHBOARD_DEMO": "1",
            "DASHBOARD_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_LOG_LEVEL": "warning",
        }
        if args.in_process:
            env["DATABASE_CONN_MAX_AGE"] = "3600"  # one connection for the whole run
        os.environ.update(env)
        try:
            token, roster, campaigns = _prepare(args.redis_url)
            if args.in_process:
                _in_process(args, token, _moves(roster, campaigns))
                return
            result = _measure(args, env, port, token, roster, campaigns)
        finally:
            from django.db import connections

            connections.close_all()
            drop(args.database_url, SCRATCH_DB)
    _print(result)


def _moves(roster, campaigns):
    """One-agent moves, each agent out of its one campaign into the next, round and round."""
    target = {c: campaigns[(i + 1) % len(campaigns)] for i, c in enumerate(campaigns)}
    return itertools.cycle(
        [
            {"agent_ids": [a], "campaign_ids_in": [target[cs[0]]], "campaign_ids_out": [cs[0]]}
            for a, cs in sorted(roster.items())
            if len(cs) == 1
        ]
    )


def _in_process(args, token: str, moves) -> None:
    import cProfile
    import io
    import pstats

    from django.core.handlers.wsgi import WSGIHandler

    app = WSGIHandler()

    def post() -> None:
        body = json.dumps(next(moves)).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/allocations",
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Token {token}",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status = []
        answer = app(environ, lambda line, headers, *_: status.append(line))
        b"".join(answer)
        answer.close()
        if not status[0].startswith("202"):
            raise RuntimeError(f"POST answered {status[0]}")

    for _ in range(50):  # imports, the URLconf, compiled statements, the connections
        post()
    profile = cProfile.Profile(time.process_time) if args.profile else None
    db_before, cpu_before, started = (
        _backend_cpu(own=True),
        time.process_time(),
        time.perf_counter(),
    )
    if profile:
        profile.enable()
    for _ in range(args.in_process):
        post()
    if profile:
        profile.disable()
    cpu, wall = time.process_time() - cpu_before, time.perf_counter() - started
    db = _backend_cpu(since=db_before, own=True) - sum(db_before.values())
    n = args.in_process
    print(f"API POST /api/allocations in process, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"load: {_uptime()}")
    print(
        f"{n} POSTs: CPU per POST: Python {cpu * 1000 / n:.2f} ms + PostgreSQL backend "
        f"{db * 1000 / n:.2f} ms; wall {wall * 1000 / n:.2f} ms"
    )
    if profile:
        profile.dump_stats(args.profile)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


def _measure(args, env, port, token, roster, campaigns) -> dict:
    base = f"http://127.0.0.1:{port}"
    web = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "dashboard.wsgi"]
    moves = _moves(roster, campaigns)
    lock = threading.Lock()

    def next_move() -> dict:
        with lock:
            return next(moves)

    def session() -> requests.Session:
        s = requests.Session()
        s.headers["Authorization"] = f"Token {token}"
        return s

    result: dict = {"uptime_start": _uptime()}
    with _processes([web], env) as procs:
        wait_http(f"{base}/healthz")
        warm = session()
        for _ in range(20):
            assert warm.post(f"{base}/api/allocations", json=next_move(), timeout=30).ok
        web_cpu, db_cpu = _cpu_seconds(procs), _backend_cpu()
        result["flood"] = _flood(base, session, next_move, args.seconds)
        result["flood"] |= _cpu_per_post(
            result["flood"]["posts"],
            _cpu_seconds(procs) - web_cpu,
            _backend_cpu(since=db_cpu) - sum(db_cpu.values()),
        )
        with _processes(_workers(1), env):
            _drain()  # the flood's jobs finish first, unmeasured
            result["supervisors"] = _supervisors(base, session, next_move, args.seconds)
    result["uptime"] = _uptime()
    return result


def _backend_cpu(
    since: dict[int, float] | None = None, own: bool = False
) -> dict[int, float] | float:
    """CPU seconds of this database's PostgreSQL backends (their /proc, on this machine); this
    process's own connection counts only with ``own`` (in process, it is the one measured).

    Without ``since``: {pid: seconds}. With it: the total now of those pids plus any that
    started since (connections opened during the flood count from zero).
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND (%s OR pid <> pg_backend_pid())",
            [own],
        )
        pids = [row[0] for row in cursor.fetchall()]
    tick = os.sysconf("SC_CLK_TCK")
    now = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        now[pid] = (int(fields[11]) + int(fields[12])) / tick
    if since is None:
        return now
    return sum(now.values()) + sum(v for pid, v in since.items() if pid not in now)


def _cpu_per_post(posts: int, web: float, db: float) -> dict:
    """CPU per POST of gunicorn (all its processes) and of PostgreSQL's backends."""
    if not posts:
        return {}
    return {
        "web_cpu_ms": round(web * 1000 / posts, 2),
        "db_cpu_ms": round(db * 1000 / posts, 2),
        "posts_per_cpu_s": round(posts / (web + db), 1) if web + db else 0.0,
    }


def _drain(timeout: float = 300) -> None:
    from dashboard.allocations.models import AllocationJob

    deadline = time.monotonic() + timeout
    while AllocationJob.objects.exclude(status__in=AllocationJob.TERMINAL).exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the flood's jobs did not finish within {timeout:g} s")
        time.sleep(0.2)


def _flood(base, session, next_move, seconds: float) -> dict:
    times: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds
    tally = threading.Lock()

    def client() -> None:
        s = session()
        while time.monotonic() < stop:
            start = time.perf_counter()
            r = s.post(f"{base}/api/allocations", json=next_move(), timeout=30)
            elapsed = (time.perf_counter() - start) * 1000
            with tally:
                times.append(elapsed)
                errors[0] += r.status_code != 202

    started = time.perf_counter()
    _run_threads(8, client)
    wall = time.perf_counter() - started
    return {"posts": len(times), "per_s": round(len(times) / wall, 1), "errors": errors[0]} | (
        _stats(times)
    )


def _supervisors(base, session, next_move, seconds: float) -> dict:
    posts: list[float] = []
    gets: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds

    def supervisor() -> None:
        s = session()
        while time.monotonic() < stop:
            start = time.perf_counter()
            r = s.post(f"{base}/api/allocations", json=next_move(), timeout=30)
            posts.append((time.perf_counter() - start) * 1000)
            if r.status_code != 202:
                errors[0] += 1
                continue
            url = f"{base}{r.json()['url']}"
            for _ in range(10):
                time.sleep(0.2)
                start = time.perf_counter()
                job = s.get(url, timeout=30)
                gets.append((time.perf_counter() - start) * 1000)
                if job.json()["status"] in ("succeeded", "failed", "cancelled"):
                    break
            time.sleep(1.0)

    _run_threads(20, supervisor)
    return {
        "errors": errors[0],
        "post": _stats(posts),
        "get": _stats(gets),
    }


def _run_threads(n: int, target) -> None:
    threads = [threading.Thread(target=target) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _stats(ms: list[float]) -> dict:
    if not ms:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0}
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
    }


def _print(r: dict) -> None:
    print(f"API POST /api/allocations, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}")
    print(
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; gunicorn.conf.py "
        f"({os.environ.get('GUNICORN_WORKERS', '2')}x{os.environ.get('GUNICORN_THREADS', '8')} "
        "gthread), PostgreSQL, Redis broker"
    )
    print(f"load before: {r['uptime_start']}\n")
    f, s = r["flood"], r["supervisors"]
    print(
        f"8 clients, POST back to back: {f['posts']} POSTs, {f['per_s']} POSTs/s, "
        f"p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms, {f['errors']} not 202"
    )
    print(
        f"  CPU per POST: gunicorn {f.get('web_cpu_ms')} ms + PostgreSQL backends "
        f"{f.get('db_cpu_ms')} ms; {f.get('posts_per_cpu_s')} POSTs per CPU-second"
    )
    print(
        f"20 supervisors: POST p50 {s['post']['p50_ms']} ms, p95 {s['post']['p95_ms']} ms "
        f"(n {s['post']['n']}); job GET p50 {s['get']['p50_ms']} ms, p95 {s['get']['p95_ms']} ms "
        f"(n {s['get']['n']}); {s['errors']} not 202"
    )
    rows = [
        ("POSTs/s, 8 clients", BEFORE["posts_per_s"], f["per_s"], GOALS["posts_per_s"], True),
        (
            "20 sup.: POST p95 ms",
            BEFORE["sup_post_p95"],
            s["post"]["p95_ms"],
            GOALS["sup_post_p95"],
            False,
        ),
        ("20 sup.: job GET p95 ms", None, s["get"]["p95_ms"], GOALS["sup_get_p95"], False),
    ]
    print(f"\n{'':<26} {'before':>8} {'now':>8} {'ratio':>7} {'goal':>8}  met")
    for name, before, now, goal, higher in rows:
        ratio = f"{now / before:.2f}x" if before else "-"
        met = "yes" if (now >= goal if higher else now <= goal) else "NO"
        print(f"{name:<26} {before or '-':>8} {now:>8} {ratio:>7} {goal:>8}  {met}")
    print(f"load after: {r['uptime']}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    summary_rows = [
        f"| API POSTs, 8 clients | {f['per_s']} POSTs/s, p95 {f['p95_ms']} ms | goal 400/s | "
        f"{f['per_s'] / GOALS['posts_per_s']:.2f}x of goal |",
        f"| 20 supervisors | POST p95 {s['post']['p95_ms']} ms, GET p95 {s['get']['p95_ms']} ms "
        f"| goals 150 / 50 ms | - |",
    ]
    (out / "api_post.json").write_text(json.dumps({**r, "summary_rows": summary_rows}, indent=2))


if __name__ == "__main__":
    main()
