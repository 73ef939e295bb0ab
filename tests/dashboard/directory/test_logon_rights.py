"""The Logon Campaign right, read from the strict simulator as the record shows it (REF 3.1, 10)."""

from __future__ import annotations

import pytest
import requests

from dashboard.directory.models import Agent, SyncRun
from dashboard.directory.services import directory_sync
from icws_client import IcwsClient
from icws_client.simulator import Simulator, default_seed
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_too]


@pytest.fixture
def right_holder():
    """A seed in which one Renewals agent holds the right; (simulator, client, that agent's id)."""
    seed = default_seed()
    holder = next(u for u in seed["users"] if "Renewals" in u.get("workgroups", []))
    holder["logonCampaignRight"] = True
    sim = Simulator(seed=seed, port=0, service_user=SERVICE_USER, service_password=SERVICE_PASSWORD)
    sim.start()
    client = IcwsClient(sim.base_url, SERVICE_USER, SERVICE_PASSWORD, timeout=2.0)
    yield sim, client, holder["id"]
    client.close()
    sim.stop()


def test_the_sync_fills_the_right_for_every_agent(right_holder):
    sim, client, holder = right_holder
    run = directory_sync(client=client, agent_workgroups=["Renewals"])
    assert run.ok, run.error
    agents = dict(Agent.objects.values_list("id", "has_logon_campaign_right"))
    assert agents[holder] is True
    assert {v for a, v in agents.items() if a != holder} == {False}
    assert run.rights_read == len(agents) and run.rights_error == ""
    assert not Agent.objects.filter(logon_right_read_at=None).exists()
    calls = {c["path"]: c["count"] for c in requests.get(f"{sim.base_url}/sim/calls").json()}
    assert calls["/icws/{sessionId}/configuration/users/{id}"] == len(agents)


def test_the_simulator_serves_the_recorded_shape(right_holder):
    sim, client, holder = right_holder
    client.connect()
    assert client.get_logon_campaign_right(holder) is True
    session = client.connection
    body = requests.get(
        f"{sim.base_url}/icws/{session.session_id}/configuration/users/{holder}",
        params={"select": "*", "rightsFilter": "loggedInUser"},
        headers={"ININ-ICWS-CSRF-Token": session.csrf_token, "Cookie": client._session.cookie},
        timeout=5,
    ).json()
    assert body["securityRights"] == {"loginCampaign": {"effectiveValue": True}}


def test_reads_are_bounded_per_sync_oldest_first(right_holder, settings):
    _sim, client, _ = right_holder
    settings.DIRECTORY_RIGHTS_READS_PER_SYNC = 3
    run = directory_sync(client=client, agent_workgroups=["Renewals"])
    assert run.ok and run.rights_read == 3
    first = set(Agent.objects.exclude(logon_right_read_at=None).values_list("id", flat=True))
    run = directory_sync(client=client, agent_workgroups=["Renewals"])
    second = set(Agent.objects.exclude(logon_right_read_at=None).values_list("id", flat=True))
    assert len(second) == 6 and first < second  # the next sync reads the never-read ones


def test_a_refused_read_leaves_the_right_unknown_and_the_sync_ok(right_holder):
    sim, client, _holder = right_holder
    sim.set_faults(status=403, paths="/configuration/users/", message="No right to view")
    run = directory_sync(client=client, agent_workgroups=["Renewals"])
    assert run.ok, run.error
    assert run.agents > 0
    assert run.rights_read == 0 and "403" in run.rights_error
    assert SyncRun.objects.get(pk=run.pk).rights_error == run.rights_error
    assert set(Agent.objects.values_list("has_logon_campaign_right", flat=True)) == {None}


def test_an_answer_without_the_right_is_unknown(right_holder, monkeypatch):
    _sim, client, holder = right_holder
    assert directory_sync(client=client, agent_workgroups=["Renewals"]).ok
    assert Agent.objects.get(id=holder).has_logon_campaign_right is True
    # One seam: the server's answer lacks securityRights (a server that does not give it).
    monkeypatch.setattr(type(client), "get_logon_campaign_right", lambda self, uid: None)
    assert directory_sync(client=client, agent_workgroups=["Renewals"]).ok
    assert Agent.objects.get(id=holder).has_logon_campaign_right is None
