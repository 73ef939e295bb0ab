"""Real parts: a Redis broker, a Celery worker, the ICWS simulator over HTTP, a real database.

Every test here is marked ``integration`` and ``postgres_too``: ``make test`` runs it on SQLite
and again on PostgreSQL.
"""

from __future__ import annotations

import os
import time

import pytest
import redis
import requests
from celery.contrib.testing.worker import start_worker

from dashboard.celery import app as celery_app
from dashboard.directory.models import Agent, Campaign
from dashboard.directory.services import directory_sync, roster_import
from dashboard.icws import get_client, reset_client
from icws_client.simulator import Simulator
from icws_client.simulator.seed import generate_seed

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.postgres_too)


@pytest.fixture(scope="session")
def redis_broker():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:  # pragma: no cover - CI starts Redis
        pytest.fail(f"Integration tests need Redis at {REDIS_URL}: {exc}")
    return client


@pytest.fixture
def supervisor(transactional_db, django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("sup", password="pw-for-tests-only")
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    return user


def serving(sim: Simulator):
    """``sim`` started for a fixture and stopped after it: ``yield from serving(...)``."""
    sim.start()
    yield sim
    sim.stop()


def generated_world(agents: int, campaigns: int, apply_delay: float = 0.05):
    """A simulator on a generated seed of this size, for a module's own ``simulator`` fixture
    (``yield from generated_world(...)``)."""
    seed = generate_seed(agents=agents, campaigns=campaigns)
    yield from serving(Simulator(seed=seed, port=0, apply_delay=apply_delay))


@pytest.fixture
def simulator():
    yield from serving(Simulator(port=0, apply_delay=0.05))


@pytest.fixture
def engine_settings(settings, simulator):
    """Point the dashboard at this test's simulator, with quick retries and leases."""
    settings.ICWS_BASE_URL = simulator.base_url
    # The seed's dialer workgroups are the agents' (what an operator names on a real server).
    settings.ICWS_AGENT_WORKGROUPS = sorted({c["workgroup"] for c in simulator.seed["campaigns"]})
    settings.ICWS_TIMEOUT = 2.0
    settings.ALLOCATION_RETRY_BASE_SECONDS = 0.05
    settings.ALLOCATION_RETRY_CAP_SECONDS = 0.2
    settings.ALLOCATION_MAX_ATTEMPTS = 3
    settings.ALLOCATION_BATCH_SIZE = 100
    reset_client()
    yield settings
    reset_client()


@pytest.fixture
def directory(transactional_db, engine_settings, simulator):
    """The directory synced from the simulator over HTTP, roster imported from its state."""
    run = directory_sync(client=get_client())
    assert run.ok, run.error
    state = simulator.state()
    rows = [
        f"{agent},{campaign}"
        for agent, campaigns in state["membership"].items()
        for campaign in campaigns
    ]
    rows += [f"{agent}," for agent, campaigns in state["membership"].items() if not campaigns]
    result = roster_import(text="\n".join(rows), source="demo")
    assert not result.errors, result.errors
    return state


@pytest.fixture
def worker(redis_broker, engine_settings, transactional_db):
    """A real Celery worker (threads) consuming from the real Redis broker."""
    redis_broker.flushdb()
    celery_app.conf.broker_url = REDIS_URL
    with start_worker(
        celery_app,
        pool="threads",
        concurrency=2,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=20,
    ) as w:
        yield w
    redis_broker.flushdb()


def sim_moves(sim) -> list[dict]:
    """The simulator's log of applied allocations (GET /sim/moves)."""
    return requests.get(f"{sim.base_url}/sim/moves", timeout=5).json()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def wait_terminal(job, timeout: float = 20.0):
    def done():
        job.refresh_from_db()
        return job.is_terminal

    wait_for(done, timeout, what=f"job {job.pk} to reach a terminal state (now {job.status})")
    return job


def pick_move(state: dict, *, count: int = 1):
    """Agents in a running campaign, and another running campaign to move them to."""
    running = [c["id"] for c in state["campaigns"] if c["state"] == "on"]
    assert len(running) >= 2, "the default seed has at least two running campaigns"
    source, target = running[0], running[1]
    agents = sorted(a for a, cs in state["membership"].items() if source in cs and target not in cs)
    assert len(agents) >= count, f"need {count} agents in {source}"
    assert Agent.objects.filter(id__in=agents[:count]).count() == count
    assert Campaign.objects.filter(id__in=[source, target]).count() == 2
    return agents[:count], source, target
