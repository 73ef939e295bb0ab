"""The audit log at 1,000,000 rows: first and deep page, filtered pages, export, verify.

Usage: .venv/bin/python bench/audit_page.py [--quick] [--rows 1000000] [--requests 20]
       [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--scratch-db bench_audit]
       [--keep] [--reuse] [--skip-pages]

``--quick``: 200,000 rows and 5 requests per page (a minute or two; the figures are then
for 200k rows, not the issue's 1M). ``--keep`` leaves the scratch database for ``--reuse``
(measure again without seeding) or for EXPLAIN ANALYZE by hand.

Seeds a scratch PostgreSQL database (``bench_audit``, dropped at the end) with a valid hash
chain through COPY (every row hashed as ``audit_record`` would), then, in-process through
Django's test client as an auditor: the first page, a deep page (``before`` near the oldest row),
agent and campaign filters, a time range, a text search; a streamed CSV export (rows/s and how
much the process's RSS grows while streaming), the same as JSON Lines; and ``verify_audit``
over every row (chain, head and a signed checkpoint; format 4, so PostgreSQL rehashes the rows
the checkpoint covers), each next to its floor and to the figures from before issue 16. The
load average is printed too: on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._db import DEFAULT_ADMIN_URL, drop, recreate  # noqa: E402 - after the path is set

SCRATCH_DB = "bench_audit"
AGENTS = 5000
CAMPAIGNS = 200
USERS = 20
KINDS = ["requested", "started", "succeeded", "requested", "started", "failed", "retry"]
FLOOR_ROWS_PER_S = 100_000  # issue 16: export and verify_audit
# Before issue 16 (1M rows, this machine): ORM instances per row, json.dumps per cell.
BEFORE = {"csv export": 18_243, "verify_audit": 24_336}
FLOOR_PAGE_P95_MS = 50  # issue 16: every filter at 1M rows
# p95 ms before issue 16 (bench/RESULTS.md, 2026-11-23, 1M rows): exact ids only, text unindexed.
BEFORE_P95_MS = {
    "first page": 14.5,
    "deep page (before=1,000)": 15.0,
    "agent filter": 24.3,
    "agent filter, deep": 11.9,
    "campaign filter": 92.8,
    "actor + kind": 17.4,
    "one day, 200 days ago": 18.5,
    "text search (q)": 25.5,
}
FIRST = ["José", "Emma", "Zoë", "Ana", "Björn", "Chloé", "Ian", "Noah", "Léa", "Omar"]
LAST = ["Ortiz", "Müller", "Núñez", "Smith", "Dubois", "Kowalski", "Lee", "Silva"]
WORDS = ["Spring Upsell", "Winter Renewals", "Église Outreach", "Summer Win-back", "Retention"]


def _agent_name(i: int) -> str:
    return f"{FIRST[i % len(FIRST)]} {LAST[i // len(FIRST) % len(LAST)]} {i:05d}"


def _campaign_name(i: int) -> str:
    return f"{WORDS[i % len(WORDS)]} {i:04d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="default 1,000,000")
    parser.add_argument("--requests", type=int, default=None, help="default 20")
    parser.add_argument("--quick", action="store_true", help="200,000 rows, 5 requests")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL),
    )
    parser.add_argument("--scratch-db", default=SCRATCH_DB, help="dropped and made afresh")
    parser.add_argument("--skip-pages", action="store_true", help="export and verify only")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch database (for --reuse or EXPLAIN)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure a kept scratch database, do not seed"
    )
    args = parser.parse_args()
    args.rows = args.rows or (200_000 if args.quick else 1_000_000)
    args.requests = args.requests or (5 if args.quick else 20)
    import tempfile

    from bench._db import with_db

    url = with_db(args.database_url, args.scratch_db)
    os.environ.update(
        DATABASE_URL=url if args.reuse else recreate(args.database_url, args.scratch_db),
        AUDIT_CHECKPOINT_DIR=tempfile.mkdtemp(prefix="bench-audit-checkpoints-"),
        DJANGO_DEBUG="1",
        DASHBOARD_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="dashboard.settings",
    )
    try:
        result = _run(args.rows, 0 if args.skip_pages else args.requests, seed=not args.reuse)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop(args.database_url, args.scratch_db)
    _print(result, args)


def _run(rows: int, requests: int, *, seed: bool = True) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if seed:
        _seed(rows)
    result = {"rows": rows, "seed_s": round(time.perf_counter() - started, 1)}
    result["pages"] = _pages(rows, requests) if requests else []
    for fmt in ("csv", "jsonl"):  # the process's first request (imports, session): not timed
        _export(fmt, {"actor": "nobody-matches-this"})
    result["export"] = _export("csv")
    result["export_jsonl"] = _export("jsonl")
    result["export_all"] = _export("csv", {})
    # The first verify after seeding checks the filters' word list over every row and signs a
    # word checkpoint; later runs check only the rows after it. A reused database has one from
    # the last run: deleted first, so the first figure is always a first run's.
    result["verify_first"] = _verify(first=True)
    result["verify"] = _verify()
    return result


def _seed(rows: int) -> None:
    """COPY ``rows`` chained events oldest first, in hash format 4 as the chainer links them
    (ids equal seqs here), grouped into moves: each job's requested, started and succeeded
    (or requested, started, failed and retry) rows; a signed checkpoint at the end, so no row
    needs its seal checked."""
    from django.db import connection

    from dashboard.audit.chain import canonical_v4_from_text, hash_v4, jsonb_text, utc_text
    from dashboard.audit.models import AuditChainHead, AuditEvent
    from dashboard.audit.search import WORD_COLUMNS, rebuild_words, search_columns

    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / rows
    jobs = _seed_jobs(rows)
    event_cols = (
        "id, at, kind, actor_username, job_id, agent_ids, campaign_ids_in, campaign_ids_out, "
        "reason, roster_before, roster_after, icws_status, icws_error_id, icws_message, "
        "message, request_id, duration_ms, details, seq, prev_hash, hash, hash_version, "
        "agent_names, campaign_names, actor_search, agent_search, campaign_search, search_text"
    )
    trigram = ("actor_search", "agent_search", "campaign_search", "search_text")
    prev = ""
    with connection.cursor() as cursor:
        for column in trigram:  # built after the COPY (as a restore would): much faster
            cursor.execute(f"DROP INDEX IF EXISTS audit_trgm_{column}")
        for column in WORD_COLUMNS:
            cursor.execute(f"DROP INDEX IF EXISTS audit_words_{column}")
        # The vocabulary is filled once after the COPY, not row by row by its trigger.
        cursor.execute(f"ALTER TABLE {AuditEvent._meta.db_table} DISABLE TRIGGER audit_words")
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(f"COPY {AuditEvent._meta.db_table} ({event_cols}) FROM STDIN") as events:
            move = None
            for seq in range(1, rows + 1):
                step_no = seq % len(KINDS)
                if move is None or step_no in (0, 3):  # a new move: its agents and campaigns
                    agents = list(
                        dict.fromkeys(
                            f"agent{rng.randrange(AGENTS):05d}" for _ in range(rng.randint(1, 3))
                        )
                    )
                    c_in, c_out = rng.sample(range(CAMPAIGNS), 2)
                    move = (agents, c_in, c_out)
                agents, c_in, c_out = move
                kind = KINDS[step_no]
                failed = kind in ("failed", "retry")
                job_id = (seq // 7 * 2 + (1 if step_no < 3 else 2)) if jobs else None
                at = start + step * seq
                username = f"supervisor{seq % USERS}"
                ins, outs = [f"{{C{c_in:04d}}}"], [f"{{C{c_out:04d}}}"]
                reason = "Campaign ran dry" if seq % 3 == 0 else ""
                status = 503 if failed else None
                error_id = "error.server.unavailable" if failed else ""
                icws_message = "The server is not available" if failed else ""
                message = f"Move of {len(agents)} agent(s)"
                request_id = f"{seq:032x}"
                duration = 40 + seq % 200
                a_names = {a: _agent_name(int(a[5:])) for a in agents}
                c_names = {ins[0]: _campaign_name(c_in), outs[0]: _campaign_name(c_out)}
                words = search_columns(
                    actor_username=username,
                    agent_ids=agents,
                    campaign_ids=list(c_names),
                    agent_names=a_names,
                    campaign_names=c_names,
                    texts=(reason, message, icws_message),
                ).values()
                text = canonical_v4_from_text(
                    seq, at, kind, None, username, job_id, jsonb_text(agents), jsonb_text(ins),
                    jsonb_text(outs), reason, "{}", "{}", status, error_id, icws_message,
                    message, request_id, duration, "{}", jsonb_text(a_names),
                    jsonb_text(c_names), *words,
                )  # fmt: skip
                digest = hash_v4(prev, seq, text)
                events.write_row(
                    (
                        seq, utc_text(at), kind, username, job_id, json.dumps(agents),
                        json.dumps(ins), json.dumps(outs), reason, "{}", "{}", status, error_id,
                        icws_message, message, request_id, duration, "{}", seq, prev, digest, 4,
                        json.dumps(a_names), json.dumps(c_names), *words,
                    )
                )  # fmt: skip
                prev = digest
        table = AuditEvent._meta.db_table
        for column in trigram:
            cursor.execute(
                f"CREATE INDEX audit_trgm_{column} ON {table} USING gin ({column} gin_trgm_ops)"
            )
        for column in WORD_COLUMNS:
            cursor.execute(
                f"CREATE INDEX audit_words_{column} ON {table} "
                f"USING gin (string_to_array({column}, ' '))"
            )
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER audit_words")
        rebuild_words(connection)
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [rows])
        cursor.execute(f"ANALYZE {table}")
    AuditChainHead.objects.update_or_create(pk=1, defaults={"seq": rows, "hash": prev})
    from dashboard.audit.checkpoints import checkpoint_now

    checkpoint_now()  # verify_audit then checks the chain against a signed checkpoint


def _seed_jobs(rows: int) -> int:
    """One allocation job per move (two per seven events): succeeded, then failed. Written with
    SQL naming the job table's required columns; if another change to that table makes this
    fail, the events are seeded without jobs (and the move grouping goes unmeasured)."""
    from django.contrib.auth.models import User
    from django.db import DatabaseError, connection, transaction

    from dashboard.allocations.models import AllocationJob

    user, _ = User.objects.get_or_create(username="bench-mover")
    count = (rows // 7 + 1) * 2
    table = AllocationJob._meta.db_table
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (id, created_at, updated_at, agent_ids, campaign_ids_in, "  # noqa: S608
                "campaign_ids_out, reason, expected_versions, request_id, status, attempts, "
                "error_kind, error_id, error_message, requested_by_id, error_class, "
                "error_transient, lease_token) SELECT g, now(), now(), '[]', '[]', '[]', '', "
                "'{}', '', CASE WHEN g %% 2 = 1 THEN 'succeeded' ELSE 'failed' END, 1, '', '', "
                "'', %s, '', false, 0 FROM generate_series(1, %s) g",
                [user.pk, count],
            )
            cursor.execute(f"ANALYZE {table}")
    except DatabaseError as exc:
        print(f"note: events seeded without jobs ({exc})", file=sys.stderr)
        return 0
    return count


def _pages(rows: int, n: int) -> list[dict]:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench._sim import percentile

    user, _ = User.objects.get_or_create(username="bench-auditor")
    user.groups.add(Group.objects.get_or_create(name="auditor")[0])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    htmx = {"HX-Request": "true"}
    since = (datetime.now() - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M")
    until = (datetime.now() - timedelta(days=199)).strftime("%Y-%m-%dT%H:%M")
    cases = [
        ("first page", {}),
        ("deep page (before=1,000)", {"before": "1000"}),
        ("deep page (half way)", {"before": str(rows // 2)}),
        ("agent filter", {"agent": "agent01234"}),
        ("agent filter, deep", {"agent": "agent01234", "before": str(rows // 50)}),
        ("campaign filter", {"campaign": "{C0042}"}),
        ("actor + kind", {"actor": "supervisor3", "kind": "failed"}),
        ("one day, 200 days ago", {"since": since, "until": until}),
        ("text search (q)", {"q": "ran dry"}),
        # Names, partial, any case and accents (issue 16 item 2).
        ("agent name, partial", {"agent": "jose ortiz 0120"}),
        ("campaign name, partial", {"campaign": "upsell 0040"}),
        ("campaign name, broad", {"campaign": "spring"}),
        # Words that never appear together: the newest-rows walk finds nothing, the index all.
        ("campaign phrase, no match", {"campaign": "spring 0041"}),
        ("actor, partial", {"actor": "super"}),
        ("text search, rare", {"q": "not available"}),
        ("text search, no match", {"q": "zzzqqq"}),
        ("kind", {"kind": "failed"}),
        ("outcome (job status)", {"outcome": "failed"}),
        ("preset: last hour", {"preset": "hour"}),
        ("preset: today", {"preset": "today"}),
        ("preset: last 7 days", {"preset": "week"}),
        ("agent name + preset", {"agent": "emma", "preset": "week"}),
        ("campaign name, deep", {"campaign": "upsell", "before": str(rows // 2)}),
    ]
    results = []
    for name, params in cases:
        client.get("/audit/", params, headers=htmx)  # warm up
        times, cpu = [], []
        for _ in range(n):
            used = _cpu_seconds()
            start = time.perf_counter()
            response = client.get("/audit/", params, headers=htmx)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((_cpu_seconds() - used) * 1000)
            assert response.status_code == 200, (name, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/audit/", params, headers=htmx)
        results.append(
            {
                "case": name,
                "params": params,
                "p50_ms": round(percentile(times, 50), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "cpu_p50_ms": round(percentile(cpu, 50), 1),
                "queries": len(queries),
                "shown": response.content.count(b"data-audit-id="),
            }
        )
    return results


def _cpu_seconds() -> float:
    """CPU time used so far by this process and its PostgreSQL backend (read from /proc: the
    database runs on this machine). Rows per CPU-second hardly moves with the load others put
    on a shared machine, where wall-clock rows/s does: it is what a quiet machine would reach
    with the database and Python each on their own core, at best."""
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid  # psycopg's, no query
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the database on another host
        return float("nan")
    backend = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return time.process_time() + backend


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _export(fmt: str, params: dict | None = None) -> dict:
    """Stream the export of every 'succeeded' row (a seventh of the log, spread over every page
    of the table), or of ``params``' rows (``{}``: the whole log, read in order)."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    user, _ = User.objects.get_or_create(username="bench-auditor")
    user.groups.add(Group.objects.get_or_create(name="auditor")[0])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    baseline = _rss_kib()
    peak = baseline
    cpu = _cpu_seconds()
    start = time.perf_counter()
    response = client.get(
        f"/audit/export.{fmt}", {"kind": "succeeded"} if params is None else params
    )
    assert response.streaming
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
        if lines % 20000 < 2:
            peak = max(peak, _rss_kib())
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu
    peak = max(peak, _rss_kib())
    rows = lines - (2 if fmt == "csv" else 1)  # header and trailer
    return {
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
        "rows_per_cpu_s": round(rows / cpu) if cpu == cpu and cpu > 0 else None,
        "mib": round(size / 1024 / 1024, 1),
        "rss_growth_mib": round((peak - baseline) / 1024, 1),
    }


def _verify(*, first: bool = False) -> dict:
    from django.db import connection

    from dashboard.audit.integrity import chain_verify

    if first:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_word_checkpoint")
    cpu = _cpu_seconds()
    start = time.perf_counter()
    report = chain_verify()
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu
    assert report.ok, report.problem
    assert (report.words_checked == "every row") == first, report.words_checked
    return {
        "words_checked": report.words_checked,
        "rows": report.rows,
        "seconds": round(seconds, 1),
        "rows_per_s": round(report.rows / seconds),
        "rows_per_cpu_s": round(report.rows / cpu) if cpu == cpu and cpu > 0 else None,
    }


def _print(result: dict, args) -> None:
    rows = result["rows"]
    print(f"Audit log at {rows:,} rows, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}")
    print(f"{os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL, in-process")
    print(f"seeded (hashing and COPY) in {result['seed_s']} s; {args.requests} requests per page")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    header = (
        f"{'page (htmx, 25 moves)':<28} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} "
        f"{'rows':>5} {'floor':>6} {'before':>7} {'CPU ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for p in result["pages"]:
        before = BEFORE_P95_MS.get(p["case"], "-")
        verdict = "ok" if p["p95_ms"] <= FLOOR_PAGE_P95_MS else "ABOVE FLOOR"
        print(
            f"{p['case']:<28} {p['p50_ms']:>8} {p['p95_ms']:>8} {p['queries']:>8} "
            f"{p['shown']:>5} {FLOOR_PAGE_P95_MS:>6} {before:>7} {p['cpu_p50_ms']:>7}  {verdict}"
        )
    if result["pages"]:
        print(
            "(CPU ms: median CPU per request of this process and its database backend together,"
            " which the load from others hardly moves; rows: entries marked on the page)"
        )
    e, j, v = result["export"], result["export_jsonl"], result["verify"]
    a = result["export_all"]
    for name, x in (("CSV export, kind=succeeded", e), ("JSONL export, kind=succeeded", j),
                    ("CSV export, every row", a)):  # fmt: skip
        print(
            f"\n{name}: {x['rows']:,} rows, {x['mib']} MiB in {x['seconds']} s; "
            f"process RSS grew {x['rss_growth_mib']} MiB while streaming"
        )
    v1 = result["verify_first"]
    for name, x in (("first run after seeding", v1), ("second run", v)):
        print(
            f"verify_audit, {name}: {x['rows']:,} rows in {x['seconds']} s (chain, head, "
            f"checkpoint; words of {x['words_checked']})"
        )
    header = (
        f"\n{'rows/s':<14} {'measured':>10} {'floor':>10} {'before':>10} {'vs before':>10} "
        f"{'per CPU-s':>10}"
    )
    print(header)
    print("-" * (len(header) - 1))
    for name, x, before in (
        ("csv export", e, BEFORE["csv export"]),
        ("jsonl export", j, None),
        ("csv, every row", a, None),
        ("verify, 1st run", v1, BEFORE["verify_audit"]),
        ("verify, 2nd run", v, BEFORE["verify_audit"]),
    ):
        verdict = "ok" if x["rows_per_s"] >= FLOOR_ROWS_PER_S else "BELOW FLOOR"
        ratio = f"{x['rows_per_s'] / before:.1f}x" if before else "-"
        per_cpu = f"{x['rows_per_cpu_s']:,}" if x.get("rows_per_cpu_s") else "-"
        print(
            f"{name:<14} {x['rows_per_s']:>10,} {FLOOR_ROWS_PER_S:>10,} "
            f"{before or '-':>10} {ratio:>10} {per_cpu:>10}  {verdict}"
        )
    print(
        "(per CPU-s: rows per CPU-second of this process and its database backend together,"
        " which the load from others hardly moves; PostgreSQL's parallel workers, which"
        " verify's hash and word checks use, are not counted, so verify's is an upper bound)"
    )
    pages = {p["case"]: p for p in result["pages"]}
    summary_rows = []
    if pages:
        first, deep = pages["first page"], pages["deep page (before=1,000)"]
        summary_rows.append(
            f"| audit page at {rows:,} rows, deep (before=1,000) | p50 {deep['p50_ms']} ms, p95 "
            f"{deep['p95_ms']} ms | first page: p50 {first['p50_ms']} ms | "
            f"{deep['p50_ms'] / first['p50_ms']:.1f}x |"
        )
    summary_rows += [
        f"| audit CSV export at {rows:,} rows | {e['rows_per_s']:,} rows/s, RSS "
        f"+{e['rss_growth_mib']} MiB (floor {FLOOR_ROWS_PER_S:,}) | before: "
        f"{BEFORE['csv export']:,} rows/s | {e['rows_per_s'] / BEFORE['csv export']:.1f}x |",
        f"| verify_audit at {rows:,} rows | first run {v1['rows_per_s']:,} rows/s, then "
        f"{v['rows_per_s']:,} rows/s (floor "
        f"{FLOOR_ROWS_PER_S:,}) | before: {BEFORE['verify_audit']:,} rows/s | "
        f"{v['rows_per_s'] / BEFORE['verify_audit']:.1f}x |",
    ]
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "audit_page.json").write_text(
        json.dumps({**result, "summary_rows": summary_rows}, indent=2)
    )


if __name__ == "__main__":
    main()
