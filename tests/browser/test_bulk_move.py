"""A 1,000-agent move from the board in Chromium: select a whole column, preview, confirm, and the
job and the simulator see every agent (issue 15 item 1).

The board is served by gunicorn when the tests run on PostgreSQL (``make test``'s second pass;
this test is marked ``postgres_too``): the 414 for a long preview URL only showed there. On SQLite
the test database lives in memory, which another process cannot open, so Django's live server
serves it instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from playwright.sync_api import expect

from dashboard.allocations.models import AllocationJob
from dashboard.directory.selectors import roster_of
from icws_client.simulator import Simulator
from icws_client.simulator.seed import generate_seed, service_credentials
from tests.browser.conftest import PASSWORD, make_user
from tests.integration.conftest import REDIS_URL, sim_moves, wait_for

pytestmark = pytest.mark.postgres_too

ROOT = Path(__file__).resolve().parents[2]
BULK = 1000  # agents in the source column
SHARED_EVERY = 10  # every tenth of them also in the second column: two cards, one agent


def _seed() -> dict:
    """Three running campaigns: 1,000 agents in the first, 100 of them and 50 more in the
    second, none in the third (the target)."""
    seed = generate_seed(agents=BULK + 50, campaigns=3, rng_seed=7)
    for campaign in seed["campaigns"]:
        campaign["status"] = [1]
    source, second, _target = (c["id"] for c in seed["campaigns"])
    agents = sorted(u["id"] for u in seed["users"] if u["id"] in seed["membership"])
    membership = {}
    for i, agent in enumerate(agents):
        if i < BULK:
            membership[agent] = [source] + ([second] if i % SHARED_EVERY == 0 else [])
        else:
            membership[agent] = [second]
    seed["membership"] = membership
    return seed


@pytest.fixture
def simulator():
    """Overrides the shared one: the bulk seed instead of the default 60 agents."""
    sim = Simulator(seed=_seed(), port=0, apply_delay=0.05)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def supervisor_user(transactional_db, django_user_model):
    return make_user(django_user_model, "bulk-sam", "supervisor")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_gunicorn(python: str, env: dict) -> tuple[subprocess.Popen, str]:
    """gunicorn on a free port, answering /healthz. The port is free when picked but another
    process can take it before gunicorn binds it; gunicorn then exits, and a new port is tried."""
    for _ in range(3):
        port = _free_port()
        web = subprocess.Popen(
            [
                *(python, "-m", "gunicorn", "dashboard.wsgi", "--bind", f"127.0.0.1:{port}"),
                *("--workers", "2", "--threads", "4", "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        wait_for(
            lambda web=web, base=base: web.poll() is not None or _answers(f"{base}/healthz"),
            30,
            what="gunicorn to answer or exit",
        )
        if web.poll() is None:
            return web, base
    raise AssertionError(f"gunicorn exited three times (last status {web.returncode}), see its log")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def served(request, transactional_db, simulator):
    """The base URL of the dashboard: gunicorn on PostgreSQL, the live server on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield request.getfixturevalue("live_server").url
        return
    url = urlsplit(os.environ["DATABASE_URL"])
    database = urlunsplit(url._replace(path=f"/{connection.settings_dict['NAME']}"))
    user, password = service_credentials()
    with tempfile.TemporaryDirectory(prefix="bulk-move-gunicorn-") as var:
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "DATABASE_CONN_MAX_AGE": "0",  # no connection left open when the test db is dropped
            "REDIS_URL": REDIS_URL,  # the test's worker consumes from it
            "DASHBOARD_VAR_DIR": var,
            "DJANGO_STATIC_ROOT": f"{var}/static",
            "DJANGO_DEBUG": "0",  # production shape: WhiteNoise, no debug pages
            "DJANGO_SECRET_KEY": "bulk-move-browser-test-only-" + "k" * 40,
            "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain http on 127.0.0.1
            "DJANGO_SECURE_COOKIES": "0",
            "DASHBOARD_LOG_LEVEL": "WARNING",
            "ICWS_BASE_URL": simulator.base_url,
            "ICWS_USER": user,
            "ICWS_PASSWORD": password,
        }
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        web, base = _start_gunicorn(python, env)
        try:
            yield base
        finally:
            web.terminate()
            web.wait(timeout=20)


def test_a_1000_agent_selection_moves_from_the_board(
    served, page, directory, worker, supervisor_user, simulator
):
    source, second, target = (c["id"] for c in directory["campaigns"])
    agents = sorted(a for a, cs in directory["membership"].items() if source in cs)
    shared = next(a for a in agents if second in directory["membership"][a])
    assert len(agents) == BULK

    page.goto(f"{served}/accounts/login/?next=/")
    page.fill("input[name=username]", supervisor_user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")

    count = page.locator("[data-selection-count]")
    page.click(f'details[data-campaign-id="{source}"] [data-select-column]')
    expect(count).to_have_text(f"{BULK} selected")
    # Counts are in agents: the same agent's card in another column adds a card, not an agent.
    other_card = page.locator(
        f'[data-cards][data-campaign-id="{second}"] [data-agent-id="{shared}"]'
    )
    other_card.click(modifiers=["Control"])
    expect(count).to_have_text(f"{BULK} selected ({BULK + 1} cards)")
    other_card.click(modifiers=["Control"])
    expect(count).to_have_text(f"{BULK} selected")

    page.select_option("[data-move-target]", target)
    page.click("[data-move-open]")
    dialog = page.locator("#move-dialog")
    # The preview checks all 1,000 agents: 3.4-5.1 s on SQLite at load 8-14, over 15 s at 20.
    expect(dialog).to_contain_text(f"Move {BULK} agents to", timeout=60_000)
    expect(page.locator("[data-move-confirm-button]")).to_have_text(f"Move {BULK} agents")
    page.fill("[data-move-reason]", "Bulk move from the board")
    page.click("[data-move-confirm-button]")
    expect(dialog).to_be_hidden()

    jobs = page.locator("#jobs-live [data-job-id]")
    expect(jobs).to_have_count(1)
    job = AllocationJob.objects.get(pk=int(jobs.first.get_attribute("data-job-id")))
    expect(page.locator(f"#job-{job.pk} [data-job-status]")).to_have_attribute(
        "data-job-status", "succeeded", timeout=60_000
    )
    job.refresh_from_db()
    assert sorted(job.agent_ids) == agents
    assert (job.campaign_ids_in, job.campaign_ids_out) == ([target], [source])
    assert job.reason == "Bulk move from the board"
    assert len(job.expected_versions) == BULK  # one version per agent, checked once
    seen = [a for move in sim_moves(simulator) for a in move["agentIds"]]
    assert sorted(seen) == agents  # the simulator saw every agent, each once
    membership = simulator.state()["membership"]
    assert all(target in membership[a] and source not in membership[a] for a in agents)
    roster = roster_of(agents)
    assert all(target in roster[a] for a in agents)
