"""Listing users, workgroups, campaigns and statuses, with paging and read retries."""

from __future__ import annotations

import pytest

from icws_client import IcwsClient, IcwsNotFound, IcwsServerError
from icws_client.simulator import Simulator, generate_seed
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

from .simcalls import calls


def test_list_users_with_workgroups(icws, sim):
    users = icws.list_users()
    state = sim.state()
    by_id = {u.id: u for u in users}
    for agent in state["agents"]:
        assert by_id[agent["id"]].display_name == agent["name"]
        assert set(by_id[agent["id"]].workgroups) == set(agent["workgroups"])


def test_list_users_where_filters_on_the_server(icws):
    everyone = icws.list_users()
    some = icws.list_users(where=f"configurationId.id sw {everyone[0].id[:3]}")
    assert 0 < len(some) <= len(everyone)
    assert all(u.id.startswith(everyone[0].id[:3]) for u in some)


@pytest.mark.rich_campaigns
def test_campaigns_have_names_states_and_workgroups(icws, sim):
    campaigns = {c.id: c for c in icws.list_campaigns()}
    for expected in sim.state()["campaigns"]:
        got = campaigns[expected["id"]]
        assert got.name == expected["name"]
        assert got.state == expected["state"]
        assert got.workgroup


def test_workgroups_list_their_members(icws):
    groups = icws.list_workgroups()
    assert groups
    assert any(g.members for g in groups)


def test_statuses(icws, sim):
    messages = icws.list_status_messages()
    assert any(m.status_id == "Available" for m in messages)
    agent = sim.state()["agents"][0]["id"]
    one = icws.get_user_status(agent)
    assert one.user_id == agent
    many = icws.get_user_statuses([a["id"] for a in sim.state()["agents"][:5]])
    assert len(many) == 5
    assert many[agent].status_id == one.status_id
    with pytest.raises(IcwsNotFound):
        icws.get_user_status("no.such.user")


def test_large_directories_are_paged_with_range():
    seed = generate_seed(agents=450, campaigns=10)
    with Simulator(
        port=0, seed=seed, service_user=SERVICE_USER, service_password=SERVICE_PASSWORD
    ) as big:
        c = IcwsClient(big.base_url, SERVICE_USER, SERVICE_PASSWORD)
        users = c.list_users()
        assert len({u.id for u in users}) == len(users) >= 450
        assert calls(big, "GET", "configuration/users") == 3  # 200 + 200 + the rest
        c.close()


def test_reads_are_retried_on_server_errors(icws, sim):
    icws.connect()
    sim.set_faults(status=500, count=2, paths="configuration/workgroups")
    assert icws.list_workgroups()
    assert calls(sim, "GET", "configuration/workgroups") == 3


def test_read_retries_are_bounded(icws, sim):
    icws.connect()
    sim.set_faults(status=500, count=10, paths="configuration/workgroups")
    with pytest.raises(IcwsServerError):
        icws.list_workgroups()
    assert calls(sim, "GET", "configuration/workgroups") == 3  # 1 + read_retries (2)


def test_messages_are_polled(icws, sim):
    agent = sim.state()["agents"][0]["id"]
    icws.get_user_statuses([agent])
    assert icws.poll_messages() == []
