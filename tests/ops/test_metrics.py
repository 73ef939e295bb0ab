import logging
import re
import time

import pytest
from django.utils import timezone

from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import SyncRun
from dashboard.ops import icws_calls
from dashboard.ops.icws_calls import flush_after_task, icws_calls_flush, icws_calls_pending
from dashboard.ops.models import IcwsCallCount
from icws_client import IcwsCall, IcwsClient

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres_too,
    pytest.mark.usefixtures("no_pending_icws_calls"),
]

SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="(?:[^"\\]|\\.)*",?)*\})? -?[0-9.e+]+$')


def _log_call(what: str, status: int) -> None:
    """What the client's on_call hook reports for one call."""
    method, _, path = what.partition(" ")
    icws_calls.record_call(IcwsCall(method, path, status, None, 0.0125, "cic1"))


def _samples(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        assert SAMPLE.match(line), line
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    return samples


def test_it_serves_prometheus_text(client, django_user_model, metrics_auth):
    user = django_user_model.objects.create_user("sup")
    for status in ["queued", "running", "succeeded", "succeeded", "failed"]:
        AllocationJob.objects.create(requested_by=user, status=status)
    now = timezone.now()
    SyncRun.objects.create(finished_at=now, ok=True, agents=3)
    _log_call("POST /icws/{sessionId}/dialer/allocate-agents", 202)

    response = client.get("/metrics", headers=metrics_auth)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.content.decode()
    assert "# TYPE dashboard_jobs_finished_total counter" in text
    assert "# TYPE dashboard_jobs_in_flight gauge" in text
    assert "# TYPE dashboard_icws_calls_total counter" in text
    samples = _samples(text)
    assert samples['dashboard_jobs_finished_total{outcome="succeeded"}'] == 2
    assert samples['dashboard_jobs_finished_total{outcome="failed"}'] == 1
    assert samples['dashboard_jobs_finished_total{outcome="cancelled"}'] == 0
    assert samples['dashboard_jobs_in_flight{status="queued"}'] == 1
    assert samples['dashboard_jobs_in_flight{status="running"}'] == 1
    assert 'dashboard_jobs_in_flight{status="succeeded"}' not in samples
    calls = 'dashboard_icws_calls_total{method="POST",path="/dialer/allocate-agents",status="202"}'
    assert samples[calls] == 1
    assert samples["dashboard_directory_last_sync_timestamp_seconds"] == pytest.approx(
        now.timestamp()
    )
    assert samples["dashboard_directory_last_sync_ok"] == 1


def test_it_leaves_out_the_sync_before_the_first_one(client, metrics_auth):
    text = client.get("/metrics", headers=metrics_auth).content.decode()
    assert "\ndashboard_directory_last_sync_timestamp_seconds " not in text
    assert "# TYPE dashboard_directory_last_sync_timestamp_seconds gauge" in text


def test_it_wants_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "metrics-token-123"
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    ok = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-123"})
    assert ok.status_code == 200


def test_it_refuses_without_a_token_outside_debug(client, settings):
    settings.METRICS_TOKEN = ""
    settings.DEBUG = False
    response = client.get("/metrics")
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.content.decode()
    assert "dashboard_jobs" not in response.content.decode()
    settings.DEBUG = True  # make run: loopback only, no token needed
    assert client.get("/metrics").status_code == 200


def test_it_is_not_found_when_disabled(client, settings):
    settings.METRICS_ENABLED = False
    assert client.get("/metrics").status_code == 404


def test_calls_are_tallied_then_added_to_the_shared_rows():
    _log_call("GET /icws/{sessionId}/status/user-statuses/agent7", 200)
    _log_call("GET /icws/{sessionId}/status/user-statuses/agent8", 200)
    _log_call("GET /icws/{sessionId}/status/user-statuses/agent8", 404)
    assert icws_calls_pending() == {
        ("GET", "/status/user-statuses/{userId}", "200"): 2,
        ("GET", "/status/user-statuses/{userId}", "404"): 1,
    }
    icws_calls_flush()
    _log_call("GET /icws/{sessionId}/status/user-statuses/agent9", 200)
    flush_after_task()  # what a Celery worker does after each task
    assert icws_calls_pending() == {}
    counts = {(r.path, r.status): r.count for r in IcwsCallCount.objects.all()}
    assert counts == {
        ("/status/user-statuses/{userId}", "200"): 3,
        ("/status/user-statuses/{userId}", "404"): 1,
    }


def test_other_client_log_lines_are_not_counted():
    log = logging.getLogger("icws_client")
    log.info("ICWS answered %s to %s %s; reconnecting once", 401, "GET", "/x")
    log.debug("something else")
    assert icws_calls_pending() == {}


def test_the_real_client_is_counted(sim):
    """Guards the coupling to the client's on_call hook: a change there shows up here."""
    from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

    with IcwsClient(
        sim.base_url, SERVICE_USER, SERVICE_PASSWORD, timeout=5, on_call=icws_calls.record_call
    ) as icws:
        icws.list_status_messages()
    icws_calls_flush()
    paths = {(r.method, r.path, r.status) for r in IcwsCallCount.objects.all()}
    assert ("GET", "/status/status-messages", "200") in paths


def test_calls_that_got_no_answer_are_counted():
    from icws_client import IcwsConnectionError, IcwsTimeout
    from icws_client.simulator import Simulator
    from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

    sim = Simulator(port=0, service_user=SERVICE_USER, service_password=SERVICE_PASSWORD)
    sim.start()
    client = IcwsClient(
        sim.base_url,
        SERVICE_USER,
        SERVICE_PASSWORD,
        timeout=0.3,
        backoff_base=0.01,
        on_call=icws_calls.record_call,
    )
    with client as icws:
        icws.connect()
        sim.set_faults(latency_ms=1000, paths="status-messages")
        with pytest.raises(IcwsTimeout):
            icws.list_status_messages()
        sim.stop()  # nothing listens on its port any more
        with pytest.raises(IcwsConnectionError):
            icws.list_status_messages()
    icws_calls_flush()
    counts = {
        r.status: r.count for r in IcwsCallCount.objects.filter(path="/status/status-messages")
    }
    # Reads are retried by the client, so each failure may count more than once.
    assert set(counts) == {"timeout", "no-connection"}


def test_connect_and_feature_calls_are_counted_too(sim):
    from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

    with IcwsClient(
        sim.base_url, SERVICE_USER, SERVICE_PASSWORD, timeout=5, on_call=icws_calls.record_call
    ) as icws:
        icws.features()
    icws_calls_flush()
    paths = {(r.method, r.path, r.status) for r in IcwsCallCount.objects.all()}
    assert ("POST", "/icws/connection", "201") in paths
    assert ("GET", "/icws/connection/features", "200") in paths
    assert ("DELETE", "/connection", "204") in paths


def test_the_dashboard_client_reports_to_the_tally(settings):
    from dashboard import icws

    settings.METRICS_ENABLED = True
    icws.reset_client()
    try:
        assert icws.get_client()._session.on_call is icws_calls.record_call
    finally:
        icws.reset_client()


def test_a_worker_flushes_its_tally_periodically_not_after_every_task(settings, monkeypatch):
    from dashboard.ops import icws_calls

    settings.ICWS_CALLS_FLUSH_SECONDS = 3600
    monkeypatch.setattr(icws_calls, "_last_flush", icws_calls.NEVER)  # as a worker starts
    _log_call("GET /icws/{sessionId}/status/user-statuses/agent7", 200)
    icws_calls.flush_periodically()  # the first task's end: due
    _log_call("GET /icws/{sessionId}/status/user-statuses/agent7", 200)
    icws_calls.flush_periodically()  # the next, within the interval: kept in memory
    assert icws_calls_pending() == {("GET", "/status/user-statuses/{userId}", "200"): 1}
    assert IcwsCallCount.objects.get().count == 1


def test_a_workers_first_task_flushes_on_a_host_just_booted(settings, monkeypatch):
    """The clock is the time since boot: a worker started 5 s after it must still flush its
    first task's calls, not hold them for ICWS_CALLS_FLUSH_SECONDS."""
    from dashboard.ops import icws_calls

    settings.ICWS_CALLS_FLUSH_SECONDS = 3600
    monkeypatch.setattr(icws_calls, "_last_flush", icws_calls.NEVER)  # as a worker starts
    monkeypatch.setattr(time, "monotonic", lambda: 5.0)
    _log_call("GET /icws/{sessionId}/status/user-statuses/agent7", 200)
    icws_calls.flush_periodically()
    assert IcwsCallCount.objects.get().count == 1
