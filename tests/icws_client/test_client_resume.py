"""The client's resumed sessions (tokens from another process, no password) and the user's own
roles and workgroups, against the simulator."""

from __future__ import annotations

import pytest

from icws_client import IcwsClient, IcwsUnauthorized
from icws_client.simulator.seed import AGENT_PASSWORD

from .simcalls import calls


def test_a_resumed_session_works_without_the_password_and_never_reconnects(sim):
    agent = sim.state()["agents"][0]["id"]
    first = IcwsClient(sim.base_url, agent, AGENT_PASSWORD, timeout=2.0)
    tokens = first.session_tokens()
    assert tokens.user_id == agent and tokens.cookie.startswith(f"icws_{tokens.session_id}=")
    assert "password" not in repr(tokens).lower()

    resumed = IcwsClient.resume(sim.base_url, tokens, timeout=2.0)
    sim.dialer_login(agent)
    resumed.ready_for_calls()
    assert sim.ready_for_calls_log()[-1]["userId"] == agent
    assert calls(sim, "POST", "/icws/connection") == 1  # only the first client connected

    sim.set_faults(expire_sessions=True)
    with pytest.raises(IcwsUnauthorized):
        resumed.ready_for_calls()
    assert calls(sim, "POST", "/icws/connection") == 1  # no password, no reconnect
    resumed.close()


def test_user_access_reads_roles_and_workgroups_as_the_record_shows(icws):
    access = icws.get_user_access("sup.morgan")
    assert access.user_id == "sup.morgan" and access.display_name == "Dana Morgan"
    assert access.roles == ("Supervisor",) and access.workgroups == ("Supervisors",)
    assert access.role_names == ("Supervisor",)
