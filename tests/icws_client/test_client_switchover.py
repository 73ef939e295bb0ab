"""``switchover-status`` where the server has it (issue 13 item 4), over real HTTP."""

from __future__ import annotations

import logging

import pytest

from icws_client import IcwsClient, IcwsProtocolError
from icws_client.models import Connection, Feature, SwitchoverStatus
from icws_client.simulator import Simulator
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER


def test_the_pair_is_the_server_and_its_first_alternate(icws):
    assert icws.switchover_status() == SwitchoverStatus(
        active=False, primary_host="cic1", backup_host="cic-icws"
    )


def test_no_alternates_means_no_backup_host():
    with Simulator(
        alternate_hosts=(), service_user=SERVICE_USER, service_password=SERVICE_PASSWORD
    ) as sim:
        client = IcwsClient(sim.base_url, SERVICE_USER, SERVICE_PASSWORD, timeout=2.0)
        try:
            assert client.switchover_status().backup_host == ""
        finally:
            client.close()


def test_a_server_without_it_answers_none(icws, sim):
    sim.set_faults(status=404, paths="switchover-status", count=1)
    assert icws.switchover_status() is None


def test_an_older_connection_feature_is_not_asked(icws, monkeypatch, sim):
    conn = icws.connect()
    older = Connection(**{**_fields(conn), "features": (Feature("connection", 10),)})
    monkeypatch.setattr(type(icws), "connect", lambda self: older)
    sim.set_faults(status=500, paths="switchover-status")  # asking would fail loudly
    assert icws.switchover_status() is None


def test_a_malformed_answer_is_typed():
    with pytest.raises(IcwsProtocolError):
        SwitchoverStatus.from_json({"isSwitchoverActive": "no", "primaryHost": "cic1"})
    with pytest.raises(IcwsProtocolError):
        SwitchoverStatus.from_json(["not", "an", "object"])


def test_the_listener_logs_the_pair(db, caplog, sim):
    from dashboard.presence.listener import Listener

    client = IcwsClient(sim.base_url, SERVICE_USER, SERVICE_PASSWORD, timeout=2.0)
    try:
        with caplog.at_level(logging.INFO, logger="dashboard.presence"):
            Listener(lambda: client)._log_switchover(client)
    finally:
        client.close()
    assert "switchover pair primary cic1, backup cic-icws; switchover not active" in caplog.text


def _fields(conn: Connection) -> dict:
    return {name: getattr(conn, name) for name in conn.__slots__}
