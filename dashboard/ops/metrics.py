"""``/metrics`` in the Prometheus text format (version 0.0.4), computed at scrape time.

Everything comes from the database, so any web replica answers for all processes and the numbers
survive restarts: jobs by status, ICWS calls (``ops.icws_calls``) and the last directory sync.
Finished jobs are a counter because job rows are never deleted (only audit rows are archived).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count

from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import SyncRun
from dashboard.ops.icws_calls import icws_calls_flush
from dashboard.ops.models import IcwsCallCount
from dashboard.presence.selectors import listener_health

TERMINAL = {status.value for status in AllocationJob.TERMINAL}
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Sample = tuple[dict[str, str], float]


def metrics_text() -> str:
    """All metrics, one family after another (flushes this process's ICWS call tally first)."""
    icws_calls_flush()
    by_status = _jobs_by_status()
    parts = [
        _family(
            "dashboard_jobs_finished_total",
            "counter",
            "Allocation jobs that reached a terminal state, by outcome, from the database.",
            [({"outcome": s}, n) for s, n in by_status.items() if s in TERMINAL],
        ),
        _family(
            "dashboard_jobs_in_flight",
            "gauge",
            "Allocation jobs not yet terminal, by status, from the database.",
            [({"status": s}, n) for s, n in by_status.items() if s not in TERMINAL],
        ),
        _family(
            "dashboard_icws_calls_total",
            "counter",
            "ICWS HTTP requests (connect, features and session calls) by method, path template "
            "and HTTP status (timeout, no-connection or protocol for calls that got no usable "
            "answer), from every process.",
            (
                ({"method": r.method, "path": r.path, "status": str(r.status)}, r.count)
                for r in IcwsCallCount.objects.order_by("method", "path", "status")
            ),
        ),
        *_directory_sync(),
        *_listener(),
    ]
    return "".join(parts)


def _jobs_by_status() -> dict[str, int]:
    counts = dict.fromkeys(AllocationJob.Status.values, 0)
    rows = AllocationJob.objects.order_by().values_list("status").annotate(n=Count("id"))
    for status, n in rows:
        counts[status] = n
    return counts


def _directory_sync() -> list[str]:
    last = SyncRun.objects.order_by("-started_at", "-id").first()
    when: list[Sample] = []
    ok: list[Sample] = []
    if last is not None:
        when = [({}, (last.finished_at or last.started_at).timestamp())]
        ok = [({}, 1 if last.ok else 0)]
    return [
        _family(
            "dashboard_directory_last_sync_timestamp_seconds",
            "gauge",
            "When the latest directory sync finished (Unix time); absent before the first sync.",
            when,
        ),
        _family(
            "dashboard_directory_last_sync_ok",
            "gauge",
            "1 if the latest directory sync succeeded, 0 if it failed.",
            ok,
        ),
    ]


def _listener() -> list[str]:
    health = listener_health()
    since = [({}, health.since.timestamp())] if health.since else []
    last = [({}, health.last_event_at.timestamp())] if health.last_event_at else []
    return [
        _family(
            "dashboard_listener_up",
            "gauge",
            "1 if the ICWS listener is live (presence fresh), 0 if presence is stale.",
            [({}, 1 if health.ok else 0)],
        ),
        _family(
            "dashboard_listener_status_since_timestamp_seconds",
            "gauge",
            "Since when the listener has been live, or presence stale (Unix time).",
            since,
        ),
        _family(
            "dashboard_listener_last_event_timestamp_seconds",
            "gauge",
            "When the listener last handled an ICWS message (Unix time).",
            last,
        ),
        _family(
            "dashboard_listener_events_total",
            "counter",
            "ICWS messages the listener handled (since its health row was created).",
            [({}, health.events)],
        ),
        _family(
            "dashboard_listener_reconnects_total",
            "counter",
            "Times the listener lost its ICWS session and reconnected.",
            [({}, health.reconnects)],
        ),
    ]


def _family(name: str, kind: str, help_text: str, samples: Iterable[Sample]) -> str:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        selector = f"{name}{{{label_text}}}" if labels else name
        lines.append(f"{selector} {_number(value)}")
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
