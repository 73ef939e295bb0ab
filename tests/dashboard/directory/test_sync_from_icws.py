"""The directory sync needs only what ICWS gives (issue 13 item 2), against the strict simulator."""

from __future__ import annotations

import pytest
from django.core import checks

from dashboard.directory.models import Agent, Campaign, SyncRun
from dashboard.directory.services import directory_sync
from icws_client import IcwsClient
from icws_client.models import Campaign as IcwsCampaign
from icws_client.models import User, Workgroup
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

pytestmark = pytest.mark.django_db


def test_agents_are_the_members_of_the_named_workgroups(icws, sim):
    run = directory_sync(client=icws, agent_workgroups=["Renewals"])
    assert run.ok, run.error
    members = {u.id for u in icws.list_users() if "Renewals" in u.workgroups}
    assert members
    assert set(Agent.objects.filter(active=True).values_list("id", flat=True)) == members


def test_campaigns_are_the_acls_by_display_name_with_state_unknown(icws, sim):
    run = directory_sync(client=icws, agent_workgroups=["Renewals"])
    assert run.ok, run.error
    expected = {c["id"]: c["name"] for c in sim.state()["campaigns"]}
    got = {c.id: c for c in Campaign.objects.all()}
    assert {cid: c.name for cid, c in got.items()} == expected
    assert {c.state for c in got.values()} == {"unknown"}
    assert all(c.workgroup_id is None and not c.state_known for c in got.values())


def test_no_agent_workgroups_fails_the_sync_and_keeps_what_it_had(icws):
    assert directory_sync(client=icws, agent_workgroups=["Renewals"]).ok
    before = Agent.objects.filter(active=True).count()
    run = directory_sync(client=icws, agent_workgroups=[])
    assert not run.ok
    assert "ICWS_AGENT_WORKGROUPS" in run.error
    assert Agent.objects.filter(active=True).count() == before


def test_unknown_agent_workgroup_fails_the_sync_naming_it(icws):
    run = directory_sync(client=icws, agent_workgroups=["No Such Group"])
    assert not run.ok
    assert "No Such Group" in run.error


def test_admin_recorded_state_and_workgroup_survive_a_sync(icws):
    assert directory_sync(client=icws, agent_workgroups=["Renewals"]).ok
    c = Campaign.objects.first()
    Campaign.objects.filter(id=c.id).update(
        state="off", state_source="admin", workgroup_id="Renewals", workgroup_source="admin"
    )
    assert directory_sync(client=icws, agent_workgroups=["Renewals"]).ok
    c.refresh_from_db()
    assert (c.state, c.state_source, c.workgroup_id) == ("off", "admin", "Renewals")


@pytest.mark.rich_campaigns
def test_a_server_that_gives_state_and_workgroup_is_believed(icws, sim):
    assert directory_sync(client=icws, agent_workgroups=["Renewals"]).ok
    by_id = {c["id"]: c["state"] for c in sim.state()["campaigns"]}
    for c in Campaign.objects.all():
        assert c.state == by_id[c.id]
        assert c.state_source == "icws" and c.workgroup_id


class _Awkward:
    """One seam: a client whose answers hold values a real server might send."""

    def __init__(self, bad_id: str) -> None:
        self.bad_id = bad_id

    def list_workgroups(self):
        return [Workgroup(id="Team", display_name="Team", members=("ann", self.bad_id))]

    def list_campaigns(self):
        return [
            IcwsCampaign(id=self.bad_id, name="Bad", workgroup=None, statuses=()),
            IcwsCampaign(id="C1", name="N" * 5000, workgroup=None, statuses=()),
        ]

    def list_users(self):
        return [
            User(
                id="ann",
                display_name="Ann\x00" + "x" * 400,
                extension="1" * 90,
                workgroups=("Team",),
            ),
            User(id=self.bad_id, display_name="Bad", extension="", workgroups=("Team",)),
        ]

    def get_user_statuses(self, ids):
        return {}

    def get_logon_campaign_right(self, user_id):
        return None


@pytest.mark.parametrize("bad_id", ["a\nb", "a\x00b", "x" * 201, "", " padded", "a\u202eb"])
def test_bad_rows_are_skipped_and_counted_long_names_cut(bad_id):
    run = directory_sync(client=_Awkward(bad_id), agent_workgroups=["Team"])
    assert run.ok, run.error
    assert run.skipped == 2
    assert list(Agent.objects.values_list("id", flat=True)) == ["ann"]
    ann = Agent.objects.get()
    assert len(ann.name) <= 200 and "\x00" not in ann.name and len(ann.extension) <= 50
    assert len(Campaign.objects.get(id="C1").name) == 200
    assert SyncRun.objects.latest().ok


def test_outside_demo_mode_agent_workgroups_are_required(settings):
    from dashboard.directory.checks import agent_workgroups_named

    settings.DEMO_MODE = False
    settings.ICWS_AGENT_WORKGROUPS = []
    errors = agent_workgroups_named()
    assert [e.id for e in errors] == ["directory.E001"]
    assert "ICWS_AGENT_WORKGROUPS" in errors[0].msg
    settings.ICWS_AGENT_WORKGROUPS = ["Renewals"]
    assert agent_workgroups_named() == []
    assert isinstance(errors[0], checks.Error)


def test_the_strict_simulator_gives_agents_with_the_demo_default(settings, sim):
    settings.DEMO_MODE = True
    client = IcwsClient(sim.base_url, SERVICE_USER, SERVICE_PASSWORD, timeout=2.0)
    try:
        run = directory_sync(client=client)
    finally:
        client.close()
    assert run.ok, run.error
    assert run.agents == len(sim.state()["agents"])


def test_an_admin_recording_state_and_workgroup_marks_them_as_admin_s(client, icws, admin_user):
    assert directory_sync(client=icws, agent_workgroups=["Renewals"]).ok
    c = Campaign.objects.first()
    client.force_login(admin_user)
    r = client.post(
        f"/admin/directory/campaign/{c.pk}/change/",
        {
            "state": "off",
            "state_note": "Paused for audit",
            "workgroup": "Renewals",
            "staffing_target": "12",
        },
    )
    assert r.status_code == 302, r.content[:500]
    c.refresh_from_db()
    assert (c.state, c.state_source, c.workgroup_source, c.staffing_target) == (
        "off",
        "admin",
        "admin",
        12,
    )
    assert directory_sync(client=icws, agent_workgroups=["Renewals"]).ok
    c.refresh_from_db()
    assert (c.state, c.workgroup_id, c.state_note) == ("off", "Renewals", "Paused for audit")
