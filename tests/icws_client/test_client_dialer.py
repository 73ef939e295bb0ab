"""allocate-agents and ready-for-calls through the icws, against the simulator."""

from __future__ import annotations

import pytest

from icws_client import (
    IcwsBadRequest,
    IcwsClient,
    IcwsForbidden,
    IcwsRequestRefused,
    IcwsServerError,
    IcwsUnsupportedFeature,
)
from icws_client.simulator import Simulator
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

from .simcalls import calls, moves


def _ids(sim):
    state = sim.state()
    campaigns = [c["id"] for c in state["campaigns"]]
    agents = [a["id"] for a in state["agents"]]
    return agents, campaigns


def test_allocate_agents_is_accepted_and_applied(icws, sim):
    agents, campaigns = _ids(sim)
    target = campaigns[0]
    out = [c for c in sim.state()["membership"][agents[0]] if c != target]
    assert icws.allocate_agents(agents[:2], campaign_ids_in=[target], campaign_ids_out=out) is None
    sim.wait_idle()
    membership = sim.state()["membership"]
    for agent in agents[:2]:
        assert target in membership[agent]
        assert not set(out) & set(membership[agent])
    assert len(moves(sim)) == 1


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"agent_ids": []}, "at least one agent"),
        ({"agent_ids": ["a1"]}, "at least one campaign"),
        ({"agent_ids": "a1", "campaign_ids_in": ["c"]}, "not a single string"),
        ({"agent_ids": ["a1", "a1"], "campaign_ids_in": ["c"]}, "repeats"),
        ({"agent_ids": ["a1", ""], "campaign_ids_in": ["c"]}, "non-empty"),
        ({"agent_ids": ["a1", 5], "campaign_ids_in": ["c"]}, "non-empty strings"),
        ({"agent_ids": ["a1"], "campaign_ids_in": ["c"], "campaign_ids_out": ["c"]}, "both in"),
    ],
)
def test_bad_moves_are_refused_locally_and_nothing_is_sent(icws, sim, kwargs, words):
    with pytest.raises(IcwsRequestRefused, match=words):
        icws.allocate_agents(**kwargs)
    assert calls(sim, "POST", "allocate-agents") == 0
    assert calls(sim, "POST", "/icws/connection") == 0, "not even a connection is opened"


def test_unknown_campaign_is_a_bad_request_with_the_server_message(icws, sim):
    agents, _ = _ids(sim)
    with pytest.raises(IcwsBadRequest) as info:
        icws.allocate_agents(agents[:1], campaign_ids_in=["{NO-SUCH-CAMPAIGN}"])
    assert "{NO-SUCH-CAMPAIGN}" in info.value.message
    assert calls(sim, "POST", "allocate-agents") == 1


def test_no_licence_is_forbidden_and_not_retried(icws, sim):
    agents, campaigns = _ids(sim)
    sim.set_faults(licence=False)
    with pytest.raises(IcwsForbidden) as info:
        icws.allocate_agents(agents[:1], campaign_ids_in=campaigns[:1])
    assert "Dialer Add-on License" in info.value.message
    assert calls(sim, "POST", "allocate-agents") == 1


def test_server_error_on_a_write_is_raised_not_retried_by_the_client(icws, sim):
    agents, campaigns = _ids(sim)
    sim.set_faults(status=500, count=1, paths="allocate-agents")
    with pytest.raises(IcwsServerError) as info:
        icws.allocate_agents(agents[:1], campaign_ids_in=campaigns[:1])
    assert info.value.transient
    assert calls(sim, "POST", "allocate-agents") == 1
    assert moves(sim) == []


def test_old_dialer_feature_version_is_refused_before_sending():
    with Simulator(
        port=0, dialer_version=6, service_user=SERVICE_USER, service_password=SERVICE_PASSWORD
    ) as old:
        c = IcwsClient(old.base_url, SERVICE_USER, SERVICE_PASSWORD)
        agents, campaigns = _ids(old)
        with pytest.raises(IcwsUnsupportedFeature, match="dialer 7"):
            c.allocate_agents(agents[:1], campaign_ids_in=campaigns[:1])
        assert calls(old, "POST", "allocate-agents") == 0
        c.close()


def test_ready_for_calls(icws, sim):
    _, campaigns = _ids(sim)
    sim.dialer_login(SERVICE_USER)  # a real server likely refuses it otherwise (REF 10)
    assert icws.ready_for_calls() is None
    assert icws.ready_for_calls(campaigns[:2]) is None
    assert calls(sim, "POST", "ready-for-calls") == 2
    with pytest.raises(IcwsRequestRefused):
        icws.ready_for_calls([])
    with pytest.raises(IcwsBadRequest):
        icws.ready_for_calls(["{NO-SUCH-CAMPAIGN}"])
