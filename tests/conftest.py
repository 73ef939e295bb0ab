"""Fixtures shared across the suite."""

from __future__ import annotations

import pytest

from icws_client import IcwsClient

SERVICE_USER = "svc_dashboard"
SERVICE_PASSWORD = "svc-dashboard-demo"


@pytest.fixture
def sim(request):
    """A fresh ICWS simulator on an ephemeral port, over real HTTP: strict (the record's shapes)
    unless the test is marked ``rich_campaigns``."""
    from icws_client.simulator import Simulator

    simulator = Simulator(
        port=0,
        apply_delay=0.02,
        service_user=SERVICE_USER,
        service_password=SERVICE_PASSWORD,
        rich_campaigns=request.node.get_closest_marker("rich_campaigns") is not None,
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def icws(sim):
    """An IcwsClient for the simulator's service account (quick backoff for tests)."""
    c = IcwsClient(sim.base_url, SERVICE_USER, SERVICE_PASSWORD, timeout=2.0, backoff_base=0.01)
    yield c
    c.close()


@pytest.fixture(autouse=True)
def _own_audit_checkpoint_dir(settings, tmp_path_factory):
    """Each test its own checkpoint file: the database rolls back between tests, the file would not,
    and a checkpoint of a rolled-back row reads as a rewritten chain to the next test."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path_factory.mktemp("audit-checkpoints")
