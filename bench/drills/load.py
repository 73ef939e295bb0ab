"""Drill: 20 supervisors moving agents there and back through the API at once."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter, defaultdict

import requests

from bench._sim import percentile
from bench.drills.context import DrillContext, make_token
from bench.drills.invariants import Result

TERMINAL = ("succeeded", "failed", "cancelled")


def run(ctx: DrillContext) -> Result:
    users, seconds = 20, (20 if ctx.quick else 120)
    r = Result(
        "load-20-supervisors",
        f"{users} supervisors (own API tokens, threads on loopback) for {seconds} s, each in a "
        "loop over its ten agents: list the agents of the campaign it is leaving, move the "
        "agent there and back (alternately), poll the job until it ends",
        "no 5xx, no transport errors; every job terminal and succeeded once",
    )
    ctx.stack.start_workers(2)
    seq = ctx.last_seq()
    # Ten agents each, in exactly one campaign, moved there and back again and again.
    pools = [ctx.single_campaign_agents(10) for _ in range(users)]
    tokens = [make_token(f"load-{i}") for i in range(users)]
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: Counter = Counter()
    ids: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def record(name: str, status: int | None, ms: float) -> None:
        with lock:
            latencies[name].append(ms)
            if status is None or status >= 500:
                errors[f"{name} -> {status}"] += 1

    def supervisor(i: int) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Token {tokens[i]}"
        away: set[str] = set()  # this supervisor's agents now in their other campaign
        turn = 0
        while time.monotonic() < deadline:
            agent = pools[i][turn % len(pools[i])]
            turn += 1
            home = ctx.roster[agent][0]
            other = next(c for c in ctx.campaigns if c not in ctx.roster[agent])
            ins, outs = ([home], [other]) if agent in away else ([other], [home])
            away ^= {agent}
            # What a supervisor's script reads first: the agents of one campaign.
            status, ms, _ = _timed(
                http, "get", f"{ctx.stack.web}/api/agents?campaign={outs[0]}", None
            )
            record("GET /api/agents?campaign=", status, ms)
            body = {"agent_ids": [agent], "campaign_ids_in": ins, "campaign_ids_out": outs}
            status, ms, data = _timed(http, "post", f"{ctx.stack.web}/api/allocations", body)
            record("POST /api/allocations", status, ms)
            job_id = data["id"] if status == 202 else None
            if job_id:
                with lock:
                    ids.append(job_id)
            while job_id and time.monotonic() < deadline + 60:
                status, ms, data = _timed(
                    http, "get", f"{ctx.stack.web}/api/allocations/{job_id}", None
                )
                record("GET /api/allocations/{id}", status, ms)
                if status == 200 and data["status"] in TERMINAL:
                    break
                time.sleep(0.2)

    threads = [threading.Thread(target=supervisor, args=(i,)) for i in range(users)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    total = sum(len(v) for v in latencies.values())
    r.saw.append(f"{total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s)")
    for name, values in sorted(latencies.items()):
        r.saw.append(
            f"{name}: {len(values)} requests, p50 {percentile(values, 50):.0f} ms, "
            f"p95 {percentile(values, 95):.0f} ms"
        )
    r.saw.append(f"errors: {dict(errors) or 'none'}")
    if errors:
        r.problems.append(f"errors under load: {dict(errors)}")
    ctx.check(r, ids, seq, timeout=120)
    ctx.stack.stop_workers()
    return r


def _timed(http, method: str, url: str, body) -> tuple[int | None, float, dict]:
    start = time.perf_counter()
    try:
        response = getattr(http, method)(url, json=body, timeout=30)
    except requests.RequestException:
        return None, (time.perf_counter() - start) * 1000, {}
    ms = (time.perf_counter() - start) * 1000
    data = {}
    with contextlib.suppress(ValueError):
        data = response.json()
    return response.status_code, ms, data
