"""Simulator: configuration lists (select/where/orderBy/Range/200 cap), single objects, statuses."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from icws_client.simulator import Simulator, generate_seed
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

from .conftest import open_session

USERS = "/configuration/users"
WORKGROUPS = "/configuration/workgroups"
CAMPAIGNS = "/configuration/interaction-dialer-campaign-acls"


def _ids(response) -> list[str]:
    return [item["configurationId"]["id"] for item in response.json()["items"]]


def test_without_select_only_configuration_ids_come_back(simulator, icws_session):
    r = icws_session.get(USERS)
    assert r.status_code == 200
    assert "Content-Range" not in r.headers
    items = r.json()["items"]
    assert len(items) == len(simulator.seed["users"])
    assert all(set(item) == {"configurationId"} for item in items)
    morgan = next(i for i in items if i["configurationId"]["id"] == "sup.morgan")
    assert morgan["configurationId"] == {
        "id": "sup.morgan",
        "displayName": "Dana Morgan",
        "uri": "/configuration/users/sup.morgan",
    }


def test_select_star_and_select_lists(simulator, icws_session):
    items = icws_session.get(USERS, params={"select": "*"}).json()["items"]
    every = {"configurationId", "extension", "workgroups", "roles", "securityRights"}
    assert all(set(i) == every for i in items)
    # The one right the record reads (REF 3.1), in its shape; no seed user holds it by default.
    assert {str(i["securityRights"]) for i in items} == {
        str({"loginCampaign": {"effectiveValue": False}})
    }
    some = icws_session.get(USERS, params={"select": "workgroups"}).json()["items"]
    assert all(set(i) == {"configurationId", "workgroups"} for i in some)
    agent = simulator.state()["agents"][0]
    mine = next(i for i in some if i["configurationId"]["id"] == agent["id"])
    assert [g["id"] for g in mine["workgroups"]] == agent["workgroups"]
    assert all(g["uri"] == f"/configuration/workgroups/{g['id']}" for g in mine["workgroups"])


def test_unknown_select_property_is_named(icws_session):
    r = icws_session.get(USERS, params={"select": "configurationId,shoeSize"})
    assert r.status_code == 400
    assert r.json()["__type"] == "urn:inin.com:common:invalidPropertyError"
    assert r.json()["propertyName"] == "shoeSize"


def test_where_operators_and_list_properties(simulator, icws_session):
    sw = icws_session.get(USERS, params={"where": "configurationId.id sw sup."})
    assert _ids(sw) == ["sup.morgan"]
    eq = icws_session.get(USERS, params={"where": "configurationId.displayName eq DANA MORGAN"})
    assert _ids(eq) == ["sup.morgan"]
    ct = icws_session.get(USERS, params={"where": "configurationId.displayName ct o'n"})
    assert "s.oneill" in _ids(ct)
    spanish = icws_session.get(USERS, params={"where": "workgroups.id eq Spanish Line"})
    expected = {a["id"] for a in simulator.state()["agents"] if "Spanish Line" in a["workgroups"]}
    assert set(_ids(spanish)) == expected and expected
    both = icws_session.get(
        USERS, params={"where": "workgroups.id eq Spanish Line,configurationId.id sw j."}
    )
    assert set(_ids(both)) == {i for i in expected if i.startswith("j.")}
    assert _ids(both)


@pytest.mark.parametrize(
    ("where", "named"),
    [
        ("configurationId.id", "where"),
        ("configurationId.id gt a", "where"),
        ("shoeSize eq 9", "shoeSize"),
        ("configurationId.colour eq red", "configurationId.colour"),
    ],
)
def test_malformed_where_is_400(icws_session, where, named):
    r = icws_session.get(USERS, params={"where": where})
    assert r.status_code == 400
    assert named in r.json()["message"]


def test_order_by_default_and_descending(icws_session):
    names = [
        i["configurationId"]["displayName"].casefold()
        for i in icws_session.get(USERS).json()["items"]
    ]
    assert names == sorted(names)
    ids = _ids(icws_session.get(USERS, params={"orderBy": "configurationId.id desc"}))
    assert ids == sorted(ids, key=str.casefold, reverse=True)
    for bad in ("configurationId.id sideways", "workgroups", "nothing"):
        assert icws_session.get(USERS, params={"orderBy": bad}).status_code == 400


def test_rights_filter(icws_session):
    for value in ("view", "admin", "loggedInUser"):
        assert icws_session.get(USERS, params={"rightsFilter": value}).status_code == 200
    assert icws_session.get(USERS, params={"rightsFilter": "everything"}).status_code == 400


def test_range_slices_with_content_range(simulator, icws_session):
    total = len(simulator.seed["users"])
    r = icws_session.get(USERS, headers={"Range": "items=0-9"})
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"items 0-9/{total}"
    assert len(r.json()["items"]) == 10
    rest = icws_session.get(USERS, headers={"Range": f"items=10-{total + 50}"})
    assert rest.status_code == 206
    assert rest.headers["Content-Range"] == f"items 10-{total - 1}/{total}"
    all_ids = _ids(icws_session.get(USERS))
    assert _ids(r) + _ids(rest) == all_ids
    whole = icws_session.get(USERS, headers={"Range": "items=0-999"})
    assert whole.status_code == 200
    assert whole.headers["Content-Range"] == f"items 0-{total - 1}/{total}"
    past = icws_session.get(USERS, headers={"Range": f"items={total}-{total + 5}"})
    assert past.status_code == 416
    assert past.headers["Content-Range"] == f"items */{total}"


@pytest.mark.parametrize("header", ["items=5", "items=9-2", "bytes=0-9", "items=a-b", "0-9"])
def test_malformed_range_is_400(icws_session, header):
    r = icws_session.get(USERS, headers={"Range": header})
    assert r.status_code == 400
    assert "Range" in r.json()["message"]


def test_select_caps_at_200_and_paging_covers_everyone_once():
    seed = generate_seed(agents=450, campaigns=10)
    with Simulator(
        port=0, seed=seed, service_user=SERVICE_USER, service_password=SERVICE_PASSWORD
    ) as sim:
        session = open_session(sim.base_url)
        total = len(seed["users"])
        capped = session.get(USERS, params={"select": "workgroups"})
        assert capped.status_code == 206
        assert len(capped.json()["items"]) == 200
        assert capped.headers["Content-Range"] == f"items 0-199/{total}"
        uncapped = session.get(USERS)
        assert uncapped.status_code == 200
        assert len(uncapped.json()["items"]) == total
        wide = session.get(USERS, params={"select": "*"}, headers={"Range": "items=100-999"})
        assert wide.headers["Content-Range"] == f"items 100-299/{total}"
        seen, first = [], 0
        while first < total:
            page = session.get(
                USERS, params={"select": "*"}, headers={"Range": f"items={first}-{first + 199}"}
            )
            seen += _ids(page)
            first += 200
        assert len(seen) == len(set(seen)) == total


def test_single_objects(simulator, icws_session):
    r = icws_session.get(f"{USERS}/sup.morgan", params={"select": "workgroups,extension"})
    assert r.status_code == 200
    body = r.json()
    assert body["configurationId"]["id"] == "sup.morgan"
    assert [g["id"] for g in body["workgroups"]] == ["Supervisors"]
    assert "roles" not in body
    assert icws_session.get(f"{USERS}/no.such.user").status_code == 404
    campaign = simulator.state()["campaigns"][0]
    r = icws_session.get(f"{CAMPAIGNS}/{quote(campaign['id'], safe='')}", params={"select": "*"})
    assert r.json()["configurationId"]["displayName"] == campaign["name"]
    r = icws_session.get(f"{WORKGROUPS}/{quote('Sales Outbound')}", params={"select": "members"})
    assert r.json()["members"]


def test_workgroups_list_members_and_flags(simulator, icws_session):
    items = icws_session.get(WORKGROUPS, params={"select": "*"}).json()["items"]
    by_id = {i["configurationId"]["id"]: i for i in items}
    assert set(by_id) == {wg["id"] for wg in simulator.seed["workgroups"]}
    assert by_id["Supervisors"]["hasQueue"] is False
    assert [m["id"] for m in by_id["Supervisors"]["members"]] == ["sup.morgan"]
    for agent in simulator.state()["agents"]:
        for wg in agent["workgroups"]:
            assert agent["id"] in {m["id"] for m in by_id[wg]["members"]}
    assert all(i["isActive"] is True for i in items)


@pytest.mark.rich_campaigns
def test_campaign_acls_carry_workgroup_status_and_type(simulator, icws_session):
    items = icws_session.get(CAMPAIGNS, params={"select": "*"}).json()["items"]
    by_id = {i["configurationId"]["id"]: i for i in items}
    flags = {"on": 1, "off": 2, "schedule-only": 4, "paused": 16, "completed": 32}
    for campaign, seeded in zip(
        simulator.state()["campaigns"], simulator.seed["campaigns"], strict=True
    ):
        item = by_id[campaign["id"]]
        assert item["configurationId"]["displayName"] == campaign["name"]
        assert item["workgroup"]["id"] == seeded["workgroup"]
        assert flags[campaign["state"]] in item["status"]
        assert item["campaignType"] in (1, 2, 3, 8)
    running = icws_session.get(CAMPAIGNS, params={"where": "status eq 1"})
    assert set(_ids(running)) == {
        c["id"] for c in simulator.state()["campaigns"] if c["state"] == "on"
    }


def test_status_messages(icws_session):
    r = icws_session.get("/status/status-messages")
    assert r.status_code == 200
    messages = r.json()["statusMessageList"]
    ids = [m["statusId"] for m in messages]
    assert "Available" in ids and "Gone Home" in ids and len(ids) == len(set(ids)) >= 8
    for m in messages:
        assert {"statusId", "messageText", "iconUri", "isSelectableStatus", "isAcdStatus"} <= set(m)


def test_user_status(simulator, icws_session):
    agent = simulator.state()["agents"][0]["id"]
    r = icws_session.get(f"/status/user-statuses/{agent}")
    assert r.status_code == 200
    status = r.json()
    assert status["userId"] == agent
    compact = re.compile(r"^\d{8}T\d{6}Z$")
    assert compact.match(status["statusChanged"]) and compact.match(status["onPhoneChanged"])
    assert isinstance(status["onPhone"], bool) and isinstance(status["loggedIn"], bool)
    assert bool(status["stations"]) == status["loggedIn"]
    missing = icws_session.get("/status/user-statuses/no.such.user")
    assert missing.status_code == 404
    assert missing.json()["errorId"] == "error.request.notFound"


# -- the record's shapes by default (REF 10) ----------------------------------------------------


def test_by_default_campaign_acls_carry_only_configuration_id(simulator, icws_session):
    items = icws_session.get(CAMPAIGNS, params={"select": "*"}).json()["items"]
    assert items
    for item in items:
        assert set(item) == {"configurationId"}
        assert set(item["configurationId"]) == {"id", "displayName", "uri"}
    one = icws_session.get(f"{CAMPAIGNS}/{quote(items[0]['configurationId']['id'], safe='')}")
    assert set(one.json()) == {"configurationId"}


@pytest.mark.parametrize(
    "params",
    [{"select": "workgroup"}, {"where": "status eq 1"}, {"orderBy": "campaignType"}],
)
def test_by_default_invented_campaign_properties_are_refused(icws_session, params):
    r = icws_session.get(CAMPAIGNS, params=params)
    assert r.status_code == 400
    assert r.json()["__type"] == "urn:inin.com:common:invalidPropertyError"


def test_users_carry_workgroups_and_workgroups_members_by_default(simulator, icws_session):
    users = icws_session.get("/configuration/users", params={"select": "workgroups"}).json()
    groups = icws_session.get("/configuration/workgroups", params={"select": "members"}).json()
    agents = simulator.state()["agents"]
    assert any(u.get("workgroups") for u in users["items"])
    members = {m["id"] for g in groups["items"] for m in g.get("members", [])}
    assert {a["id"] for a in agents} <= members
