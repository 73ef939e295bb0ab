"""`make drills`: fault drills against real processes; writes bench/DRILLS.md.

Usage: .venv/bin/python -m bench.drills.run [--quick] [--only NAME ...]
       [--database-url postgres://postgres@127.0.0.1:5432/postgres]

Every drill submits moves through the JSON API (gunicorn), lets Celery workers on our own Redis
run them against the ICWS simulator, does something bad in the middle, and then checks the same
things: every job reached a terminal state; no agent's move reached ICWS more often than its job
succeeded (never applied twice); every job has its `requested` row and exactly one terminal row
in the audit log, and every attempt a `started` row; `verify_audit` is clean. Exit status 1 if
any drill fails. The PostgreSQL drill restarts the local cluster (it needs root, as in CI).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench._db import DEFAULT_ADMIN_URL
from bench._sim import percentile
from bench.drills.stack import ROOT, Stack, wait_terminal

OUT = ROOT / "bench" / "DRILLS.md"


@dataclass
class Result:
    name: str
    did: str
    expected: str
    saw: list[str] = field(default_factory=list)
    submitted: int = 0
    terminal: int = 0
    statuses: dict = field(default_factory=dict)
    applied: int = 0
    resent: int = 0
    agents: int = 0
    agents_consistent: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems


class Drills:
    def __init__(self, stack: Stack, quick: bool):
        self.stack = stack
        self.quick = quick
        self.session = requests.Session()
        self.token = _token("drill-supervisor")
        self.session.headers["Authorization"] = f"Token {self.token}"
        from dashboard.directory.models import Agent, Campaign
        from dashboard.directory.selectors import roster_of

        self.campaigns = [
            c
            for c in Campaign.objects.order_by("id").values_list("id", flat=True)
            if c  # every campaign the simulator has
        ]
        roster = roster_of(Agent.objects.values_list("id", flat=True))
        self.free = [a for a, cs in sorted(roster.items())]  # agents not used by a drill yet
        self.roster = roster

    # -- moves ----------------------------------------------------------------------------------

    def agents(self, n: int) -> list[str]:
        taken, self.free = self.free[:n], self.free[n:]
        if len(taken) < n:
            raise RuntimeError("out of agents for drills")
        return taken

    def single_campaign_agents(self, n: int) -> list[str]:
        """``n`` unused agents that are each in exactly one campaign."""
        picked: list[str] = []
        while len(picked) < n:
            picked += [a for a in self.agents(n) if len(self.roster[a]) == 1]
        return picked[:n]

    def move(self, agent: str) -> tuple[int, requests.Response]:
        """Move ``agent`` into a campaign it is not in; returns (job id or 0, response)."""
        target = next(c for c in self.campaigns if c not in self.roster[agent])
        r = self.session.post(
            f"{self.stack.web}/api/allocations",
            json={"agent_ids": [agent], "campaign_ids_in": [target], "campaign_ids_out": []},
            timeout=30,
        )
        return (r.json()["id"] if r.status_code == 202 else 0), r

    def submit(self, agents: list[str]) -> list[int]:
        ids = []
        for agent in agents:
            job_id, r = self.move(agent)
            if not job_id:
                raise RuntimeError(f"submit refused: {r.status_code} {r.text[:200]}")
            ids.append(job_id)
        return ids

    # -- the common checks ----------------------------------------------------------------------

    def check(
        self,
        result: Result,
        job_ids: list[int],
        since_seq: int,
        *,
        timeout: float = 180,
        expect: str = "succeeded",
    ) -> None:
        """Wait for the jobs, then check them against ICWS's move log (moves after
        ``since_seq``) and the audit log."""
        from dashboard.allocations.models import AllocationJob
        from dashboard.audit.integrity import chain_verify
        from dashboard.audit.models import AuditEvent

        all_done, statuses = wait_terminal(job_ids, timeout)
        result.submitted = len(job_ids)
        result.terminal = sum(n for s, n in statuses.items() if s in ("succeeded", "failed"))
        result.terminal += statuses.get("cancelled", 0)
        result.statuses = dict(statuses)
        if not all_done:
            result.problems.append(f"not terminal after {timeout:.0f} s: {dict(statuses)}")
        if expect and statuses.get(expect, 0) != len(job_ids):
            result.problems.append(f"expected every job {expect}, got {dict(statuses)}")

        time.sleep(0.5)  # the simulator applies a move 10 ms after accepting it
        moves = self.moves_since(since_seq)
        jobs = {j.pk: j for j in AllocationJob.objects.filter(pk__in=job_ids)}
        # A send cut off by a killed worker is re-sent, and says so in the audit log: that one
        # extra application (same result: allocate-agents sets membership) is explained.
        resent = Counter(
            AuditEvent.objects.filter(
                job_id__in=job_ids, kind="retry", details__outcome_unknown=True
            ).values_list("job_id", flat=True)
        )
        result.resent = sum(resent.values())
        if resent:
            result.saw.append(
                f"{result.resent} batch(es) re-sent because the outcome of a send was unknown "
                f"(worker or database lost mid-call, or a timeout; jobs {sorted(resent)}), each "
                "with its audit row"
            )
        succeeded, allowed_extra = Counter(), Counter()
        for job in jobs.values():
            for agent in job.agent_ids:
                succeeded[agent] += job.status == "succeeded"
                allowed_extra[agent] += resent[job.pk]
        applied = Counter(a for m in moves for a in m["agentIds"] if a in allowed_extra)
        result.applied = sum(applied.values())
        for agent in allowed_extra:
            if applied[agent] > succeeded[agent] + allowed_extra[agent]:
                result.problems.append(
                    f"agent {agent}: applied {applied[agent]}x for {succeeded[agent]} succeeded "
                    f"job(s) and {allowed_extra[agent]} audited re-send(s)"
                )
            elif applied[agent] < succeeded[agent]:
                result.problems.append(
                    f"agent {agent}: {succeeded[agent]} job(s) succeeded, "
                    f"{applied[agent]} reached ICWS"
                )

        # In effect, nothing was applied twice: ICWS's membership of every agent these jobs
        # touched is exactly the dashboard's roster (a re-send set the same membership again).
        from dashboard.directory.selectors import roster_of

        touched = sorted(allowed_extra)
        membership = self.stack.sim_state()["membership"]
        roster = roster_of(touched)
        differ = [a for a in touched if set(membership.get(a, [])) != set(roster.get(a, []))]
        result.agents, result.agents_consistent = len(touched), len(touched) - len(differ)
        for agent in differ[:10]:
            result.problems.append(
                f"agent {agent}: ICWS has {sorted(membership.get(agent, []))}, the roster "
                f"{sorted(roster.get(agent, []))}"
            )

        kinds = defaultdict(Counter)
        for job_id, kind in AuditEvent.objects.filter(job_id__in=job_ids).values_list(
            "job_id", "kind"
        ):
            kinds[job_id][kind] += 1
        for job in jobs.values():
            k = kinds[job.pk]
            terminal_rows = k["succeeded"] + k["failed"] + k["cancelled"]
            if k["requested"] != 1 or (job.is_terminal and terminal_rows != 1):
                result.problems.append(f"job {job.pk}: audit rows {dict(k)}")
            elif job.attempts and k["started"] < 1:
                result.problems.append(f"job {job.pk}: {job.attempts} attempts, no started row")
        report = chain_verify()
        if not report.ok:
            result.problems.append(f"verify_audit: {report.problem} at row {report.broken_id}")
        result.saw.append(
            f"{len(job_ids)} submitted, {result.terminal} terminal ({_fmt(statuses)}), "
            f"{result.applied} moves applied by ICWS ({result.resent} audited re-sends), "
            f"ICWS membership = roster for {result.agents_consistent} of {result.agents} "
            "agents, audit chain "
            f"{'intact' if report.ok else 'BROKEN'} ({report.rows} rows)"
        )

    def moves_since(self, seq: int) -> list[dict]:
        return [m for m in self.stack.sim_moves() if m["seq"] > seq]

    def last_seq(self) -> int:
        moves = self.stack.sim_moves()
        return moves[-1]["seq"] if moves else 0

    # -- drills ---------------------------------------------------------------------------------

    def worker_kill(self) -> Result:
        n = 40 if self.quick else 200
        r = Result(
            "worker-kill",
            f"{n} one-agent jobs in flight (ICWS answering in 100 ms), then kill -9 the only "
            "worker and its pool children; restart it 3 s later",
            "every job succeeds exactly once: the sweeper re-queues the jobs the dead worker held "
            "(lease expired) and the ones whose messages it had prefetched",
        )
        self.stack.start_workers(1)
        self.stack.faults(latency_ms=100, paths="allocate-agents")
        seq = self.last_seq()
        ids = self.submit(self.agents(n))
        _wait_until(lambda: _count(ids, "succeeded") >= n // 5, 60)
        before = _count(ids, "succeeded")
        self.stack.kill_workers()
        r.saw.append(f"killed the worker with {before} of {n} jobs succeeded")
        time.sleep(3)
        self.stack.start_workers(1)
        self.check(r, ids, seq, timeout=240)
        self.stack.clear_faults()
        self.stack.stop_workers()
        return r

    def redis_restart(self) -> Result:
        n = 20 if self.quick else 60
        r = Result(
            "redis-restart",
            f"no worker running; {n} jobs submitted (their messages wait in Redis); Redis killed "
            "(no persistence: the queue is lost) and started again; then 10 more jobs submitted "
            "while Redis is down; then a worker started",
            "every submit still answers 202 (the job is committed even when the broker is down); "
            "the sweeper re-publishes the lost and unpublished jobs; every job succeeds once",
        )
        seq = self.last_seq()
        ids = self.submit(self.agents(n))
        self.stack.stop_redis()
        down = self.submit(self.agents(10))
        r.saw.append(f"10 submits while Redis was down answered 202 (jobs {down[0]}..{down[-1]})")
        self.stack.start_redis()
        self.stack.start_workers(1)
        self.check(r, ids + down, seq, timeout=120)
        self.stack.stop_workers()
        return r

    def postgres_restart(self) -> Result:
        n = 30 if self.quick else 100
        r = Result(
            "postgres-restart",
            f"{n} jobs running (ICWS answering in 100 ms) when the PostgreSQL cluster restarts "
            "(pg_ctlcluster restart, a few seconds down)",
            "workers and web reconnect; a task that lost its database retries instead of failing "
            "the move; every job succeeds once",
        )
        cluster = _pg_cluster()
        if cluster is None:
            r.problems.append("no local PostgreSQL cluster to restart (pg_lsclusters)")
            return r
        self.stack.start_workers(1)
        self.stack.faults(latency_ms=100, paths="allocate-agents")
        seq = self.last_seq()
        ids = self.submit(self.agents(n))
        _wait_until(lambda: _count(ids, "succeeded") >= n // 4, 60)
        from django.db import connections

        connections.close_all()
        started = time.monotonic()
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "restart"],
            check=True,
            capture_output=True,
        )
        r.saw.append(f"PostgreSQL restarted in {time.monotonic() - started:.1f} s")
        self.check(r, ids, seq, timeout=180)
        self.stack.clear_faults()
        self.stack.stop_workers()
        return r

    def fault_storms(self) -> list[Result]:
        results = []
        self.stack.start_workers(2)
        n = 20 if self.quick else 60
        storms = [
            (
                "icws-500-storm",
                f"{n} jobs while 30% of allocate-agents calls answer 500",
                "transient errors retried with backoff; every job succeeds once",
                {"status": 500, "rate": 0.3, "paths": "allocate-agents"},
                "succeeded",
                n,
            ),
            (
                "icws-503-switchover",
                f"{n // 2} jobs after every session is ended and 127.0.0.1 answers connect with "
                "503 naming localhost as the alternate host",
                "the client reconnects through the alternate host; every job succeeds once",
                {
                    "expire_sessions": True,
                    "connect_503": {
                        "count": None,
                        "hosts": ["127.0.0.1"],
                        "alternate_hosts": ["localhost"],
                    },
                },
                "succeeded",
                n // 2,
            ),
            (
                "icws-licence-off",
                f"{n // 2} jobs while the Dialer licence is off (403)",
                "each job fails at once with the ICWS message; nothing is applied",
                {"licence": False},
                "failed",
                n // 2,
            ),
            (
                "icws-5s-latency",
                "8 jobs while allocate-agents takes 5 s (client timeout 10 s)",
                "slow but successful; no retry, so nothing is applied twice",
                {"latency_ms": 5000, "paths": "allocate-agents"},
                "succeeded",
                8,
            ),
        ]
        for name, did, expected, faults, expect, count in storms:
            r = Result(name, did, expected)
            started = time.monotonic()
            seq = self.last_seq()
            self.stack.faults(**faults)
            ids = self.submit(self.agents(count))
            self.check(r, ids, seq, timeout=180, expect=expect)
            self.stack.clear_faults()
            if name == "icws-licence-off":
                self._check_icws_status(r, ids, 403)
            r.seconds = time.monotonic() - started
            results.append(r)

        results.append(self._session_expiry(n))
        results.append(self._simulator_down())
        self.stack.stop_workers()
        return results

    def _check_icws_status(self, r: Result, ids: list[int], status: int) -> None:
        from dashboard.audit.models import AuditEvent

        rows = AuditEvent.objects.filter(job_id__in=ids, kind="failed", icws_status=status)
        if rows.count() != len(ids):
            r.problems.append(f"{rows.count()} of {len(ids)} failed rows carry ICWS {status}")
        else:
            r.saw.append(f"every failed row carries ICWS {status}: {rows.first().icws_message!r}")

    def _session_expiry(self, n: int) -> Result:
        r = Result(
            "icws-sessions-expiring",
            f"{n} jobs while every ICWS session is ended every 2 s for 20 s",
            "the client reconnects on 401 and repeats the call once; every job succeeds once",
        )
        seq = self.last_seq()
        stop = threading.Event()

        def expire():
            while not stop.wait(2):
                self.stack.faults(expire_sessions=True)

        thread = threading.Thread(target=expire, daemon=True)
        thread.start()
        ids = []
        for agent in self.agents(n):
            ids.append(self.submit([agent])[0])
            time.sleep(20 / n)
        stop.set()
        thread.join()
        self.check(r, ids, seq, timeout=120)
        return r

    def _simulator_down(self) -> Result:
        n = 10 if self.quick else 30
        down_for = 10 if self.quick else 30
        r = Result(
            "icws-down",
            f"the simulator process killed; {n} jobs submitted; {down_for} s later started again "
            "(its sessions and state are gone)",
            "connection errors retried with capped backoff; after the restart the client "
            "reconnects; every job succeeds once",
        )
        self.stack.stop_sim()
        ids = self.submit(self.agents(n))
        time.sleep(down_for)
        self.stack.start_sim()
        r.saw.append(f"simulator down for {down_for} s, then back")
        self.check(r, ids, 0, timeout=180)  # a new simulator: its move log starts empty
        return r

    def load(self) -> Result:
        users, seconds = 20, (20 if self.quick else 120)
        r = Result(
            "load-20-supervisors",
            f"{users} supervisors (own API tokens, threads on loopback) for {seconds} s, each in a "
            "loop over its ten agents: list the agents of the campaign it is leaving, move the "
            "agent there and back (alternately), poll the job until it ends",
            "no 5xx, no transport errors; every job terminal and succeeded once",
        )
        self.stack.start_workers(2)
        seq = self.last_seq()
        # Ten agents each, in exactly one campaign, moved there and back again and again.
        pools = [self.single_campaign_agents(10) for _ in range(users)]
        tokens = [_token(f"load-{i}") for i in range(users)]
        latencies: dict[str, list[float]] = defaultdict(list)
        errors: Counter = Counter()
        ids: list[int] = []
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def supervisor(i: int) -> None:
            http = requests.Session()
            http.headers["Authorization"] = f"Token {tokens[i]}"
            away: set[str] = set()  # this supervisor's agents now in their other campaign
            turn = 0
            while time.monotonic() < deadline:
                agent = pools[i][turn % len(pools[i])]
                turn += 1
                home = self.roster[agent][0]
                other = next(c for c in self.campaigns if c not in self.roster[agent])
                ins, outs = ([home], [other]) if agent in away else ([other], [home])
                away ^= {agent}
                calls = [
                    # What a supervisor's script reads first: the agents of one campaign.
                    ("GET /api/agents?campaign=", "get", f"/api/agents?campaign={outs[0]}", None),
                    (
                        "POST /api/allocations",
                        "post",
                        "/api/allocations",
                        {"agent_ids": [agent], "campaign_ids_in": ins, "campaign_ids_out": outs},
                    ),
                ]
                job_id = None
                for name, method, path, body in calls:
                    status, ms, data = _timed(http, method, self.stack.web + path, body)
                    with lock:
                        latencies[name].append(ms)
                        if status is None or status >= 500:
                            errors[f"{name} -> {status}"] += 1
                    if name.startswith("POST") and status == 202:
                        job_id = data["id"]
                        with lock:
                            ids.append(job_id)
                while job_id and time.monotonic() < deadline + 60:
                    status, ms, data = _timed(
                        http, "get", f"{self.stack.web}/api/allocations/{job_id}", None
                    )
                    with lock:
                        latencies["GET /api/allocations/{id}"].append(ms)
                        if status is None or status >= 500:
                            errors[f"GET job -> {status}"] += 1
                    if status == 200 and data["status"] in ("succeeded", "failed", "cancelled"):
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
        self.check(r, ids, seq, timeout=120)
        self.stack.stop_workers()
        return r

    def fuzz(self) -> Result:
        from bench.drills.fuzz import fuzz_api, fuzz_forms, schemathesis_run

        r = Result(
            "fuzz-bad-input",
            "property-based fuzzing: schemathesis from /api/openapi.json (every operation), and "
            "Hypothesis-generated bodies for POST /api/allocations and the htmx form endpoints "
            "(move preview and submit, job retry and cancel, audit filters)",
            "zero 5xx; no job created from input the server refused; every accepted move valid",
        )
        from dashboard.allocations.models import AllocationJob

        before = AllocationJob.objects.count()
        outcome = schemathesis_run(self.stack.web, self.token, quick=self.quick)
        r.saw.append(outcome.summary)
        r.problems.extend(outcome.problems)
        api = fuzz_api(self.stack.web, self.token, self.campaigns, self.free, quick=self.quick)
        forms = fuzz_forms(self.stack.web, "fuzz-supervisor", quick=self.quick)
        for part in (api, forms):
            r.saw.append(part.summary)
            r.problems.extend(part.problems)
        created = AllocationJob.objects.count() - before
        accepted = api.accepted + forms.accepted + outcome.accepted
        r.saw.append(f"jobs created: {created}; moves the server accepted (202/200): {accepted}")
        if created > accepted:
            r.problems.append(f"{created - accepted} jobs created without an accepted request")
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


def _token(username: str) -> str:
    from django.contrib.auth.models import Group, User

    from dashboard.accounts.models import ApiToken

    user, _ = User.objects.get_or_create(username=username)
    user.set_password("drills-" + username)
    user.save()
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    key = f"drill-{username}-" + "k" * 32
    ApiToken.objects.get_or_create(user=user, key_hash=ApiToken.hash(key), prefix=key[:8])
    return key


def _count(ids: list[int], status: str) -> int:
    from dashboard.allocations.models import AllocationJob

    return AllocationJob.objects.filter(pk__in=ids, status=status).count()


def _wait_until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.1)


def _pg_cluster() -> list[str] | None:
    try:
        out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in out.stdout.splitlines():
        version, name, port, *_ = line.split()
        if port == "5432":
            return [version, name]
    return None


def _fmt(statuses: Counter) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none"


DRILLS = ["worker-kill", "redis-restart", "postgres-restart", "faults", "load", "fuzz"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", choices=DRILLS, default=None)
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
        drills = Drills(stack, args.quick)
        plan = {
            "worker-kill": drills.worker_kill,
            "redis-restart": drills.redis_restart,
            "postgres-restart": drills.postgres_restart,
            "faults": drills.fault_storms,
            "load": drills.load,
            "fuzz": drills.fuzz,
        }
        for name in args.only or DRILLS:
            print(f"== {name}", flush=True)
            t0 = time.monotonic()
            try:
                out = plan[name]()
            except Exception as exc:  # a crashed drill is a failed drill, and the rest still run
                out = Result(name, "(crashed)", "-", problems=[f"{type(exc).__name__}: {exc}"])
                stack.clear_faults() if "sim" in stack.procs else None
                stack.stop_workers()
            for result in out if isinstance(out, list) else [out]:
                result.seconds = result.seconds or time.monotonic() - t0
                results.append(result)
                print(f"   {result.name}: {'PASS' if result.passed else 'FAIL'}", flush=True)
                for line in [*result.saw, *result.problems]:
                    print(f"     {line}", flush=True)
    finally:
        stack.stop()
    _write(results, args.quick, time.monotonic() - started)
    print(f"\nWrote {OUT}")
    return 0 if results and all(r.passed for r in results) else 1


def _write(results: list[Result], quick: bool, seconds: float) -> None:
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
            f"{_fmt(Counter(r.statuses))} | {r.applied} | {r.resent} | "
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
    Path(OUT).write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
