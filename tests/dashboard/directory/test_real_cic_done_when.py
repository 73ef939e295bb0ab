"""Issue 13's "done when", against the strict default simulator only (the record's shapes), with
the real parts: Redis, a Celery worker, the simulator over HTTP, the listener in a thread.

Shown here: agents are exactly the members of ICWS_AGENT_WORKGROUPS and campaigns the ACLs by
displayName; a move sends exactly those agentIds/campaignIdsIn/campaignIdsOut, and what was
observed after it is audited; a licence-off 403 is shown on the job page; moves keep going
through the listed alternate host when the primary's port is closed. The presence change on an
open board within 2 s is ``tests/browser/test_live.py``; the same failover under load, with the
listener, is the ``primary-gone`` drill and a killed listener the ``listener-kill`` drill.
"""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from django.urls import reverse

from dashboard.allocations.models import AllocationJob
from dashboard.allocations.submit import job_submit
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent, Campaign
from dashboard.icws import reset_client
from dashboard.presence.observe import observe_recent_moves
from dashboard.presence.selectors import listener_health
from icws_client.simulator import Simulator
from tests.dashboard.presence.test_listener import Running
from tests.integration import conftest as _integration
from tests.integration.conftest import pick_move, sim_moves, wait_for, wait_terminal

# The integration fixtures by name (their conftest covers tests/integration/ only).
for _name in ("directory", "engine_settings", "redis_broker", "supervisor", "worker"):
    globals()[_name] = getattr(_integration, _name)

pytestmark = [pytest.mark.integration, pytest.mark.postgres_too]

PEER = "127.0.0.2"


@pytest.fixture
def simulator():
    """The primary: strict (no rich campaigns), naming the peer as its alternate host."""
    sim = Simulator(port=0, apply_delay=0.05, alternate_hosts=[PEER])
    sim.start()
    yield sim
    sim.stop()


def test_agents_are_the_workgroup_members_and_campaigns_the_acls(directory, simulator, settings):
    wanted = set(settings.ICWS_AGENT_WORKGROUPS)
    members = {u["id"] for u in simulator.seed["users"] if wanted & set(u.get("workgroups", []))}
    assert set(Agent.objects.filter(active=True).values_list("id", flat=True)) == members
    acls = {c["id"]: c["name"] for c in simulator.seed["campaigns"]}
    assert dict(Campaign.objects.values_list("id", "name")) == acls
    assert set(Campaign.objects.values_list("state", flat=True)) == {"unknown"}  # none on record


def test_a_move_sends_exactly_its_ids_and_what_was_observed_is_audited(
    directory, worker, supervisor, simulator, settings
):
    settings.LISTENER_POLL_SECONDS = 0.1
    agents, source, target = pick_move(directory, count=2)
    with Running(simulator):
        wait_for(lambda: listener_health().ok, 10, what="the listener live")
        job, _ = job_submit(
            actor=supervisor, agent_ids=agents, campaign_ids_in=[target], campaign_ids_out=[source]
        )
        wait_terminal(job)
        assert job.status == AllocationJob.Status.SUCCEEDED, job.error_message
        simulator.wait_idle()
        (sent,) = [m for m in sim_moves(simulator) if set(m["agentIds"]) & set(agents)]
        assert sorted(sent["agentIds"]) == sorted(agents)
        assert (sent["campaignIdsIn"], sent["campaignIdsOut"]) == ([target], [source])
        later = job.finished_at + dt.timedelta(seconds=settings.OBSERVE_AFTER_SECONDS + 1)
        assert observe_recent_moves(now=later) == 1
    (row,) = AuditEvent.objects.filter(job=job, kind=AuditEvent.Kind.OBSERVED)
    clients = requests.get(f"{simulator.base_url}/sim/clients", timeout=5).json()
    assert row.details["observable"] is True
    for agent in agents:
        assert row.details["agents"][agent]["live_client"] is (agent in clients)
    assert row.message.startswith("After the move, 2 agents: live CIC client")


def test_a_licence_off_403_is_shown_on_the_job_page(
    directory, worker, supervisor, simulator, client
):
    agents, source, target = pick_move(directory)
    simulator.set_faults(licence=False)
    job, _ = job_submit(
        actor=supervisor, agent_ids=agents, campaign_ids_in=[target], campaign_ids_out=[source]
    )
    wait_terminal(job)
    assert (job.status, job.error_status) == (AllocationJob.Status.FAILED, 403)
    client.force_login(supervisor)
    html = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "Dialer Add-on licence" in html  # the explanation, keyed on the status
    assert "ICWS said: HTTP 403: Neither the agent nor the station" in html


def test_moves_go_through_the_listed_alternate_when_the_primary_port_is_closed(
    directory, worker, supervisor, simulator, settings
):
    try:
        peer = Simulator(host=PEER, port=simulator.port, apply_delay=0.05)
        peer.start()
    except OSError as exc:  # pragma: no cover - a host without 127.0.0.2
        pytest.skip(f"cannot listen on {PEER}: {exc}")
    try:
        settings.ICWS_ALTERNATE_HOSTS = [PEER]
        reset_client()
        agents, source, target = pick_move(directory)
        simulator.stop()  # the port is closed: no 503, nothing answers
        job, _ = job_submit(
            actor=supervisor, agent_ids=agents, campaign_ids_in=[target], campaign_ids_out=[source]
        )
        wait_terminal(job, timeout=30)
        assert job.status == AllocationJob.Status.SUCCEEDED, job.error_message
        peer.wait_idle()
        (sent,) = sim_moves(peer)
        assert sent["agentIds"] == agents and sent["campaignIdsIn"] == [target]
    finally:
        peer.stop()
