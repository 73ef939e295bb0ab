import datetime as dt

import pytest

from icws_client import Campaign, Connection, IcwsProtocolError, User, UserStatus
from icws_client.models import parse_icws_time


def _cid(ident, name=None):
    return {"id": ident, "displayName": name or ident, "uri": f"/configuration/x/{ident}"}


def test_user_parses_workgroups_and_falls_back_to_id_for_name():
    user = User.from_json({"configurationId": {"id": "a.lopez"}, "workgroups": [_cid("Sales")]})
    assert user == User(id="a.lopez", display_name="a.lopez", workgroups=("Sales",))


def test_user_without_configuration_id_is_a_protocol_error_naming_it():
    with pytest.raises(IcwsProtocolError, match="configurationId"):
        User.from_json({"workgroups": []})


def test_wrongly_typed_property_is_named():
    with pytest.raises(IcwsProtocolError, match="'workgroups' has the wrong type"):
        User.from_json({"configurationId": _cid("u1"), "workgroups": "Sales"})


@pytest.mark.parametrize(
    ("statuses", "state"),
    [
        ([1], "on"),
        ([2], "off"),
        ([1, 16], "paused"),
        ([32, 2], "completed"),
        ([4], "schedule-only"),
        ([], "unknown"),
    ],
)
def test_campaign_state_names_the_most_telling_flag(statuses, state):
    campaign = Campaign.from_json(
        {"configurationId": _cid("{C1}", "Sales"), "status": statuses, "workgroup": _cid("WG")}
    )
    assert campaign.state == state
    assert campaign.workgroup == "WG"
    assert campaign.name == "Sales"


def test_campaign_status_must_be_integers():
    with pytest.raises(IcwsProtocolError, match="status"):
        Campaign.from_json({"configurationId": _cid("{C1}"), "status": ["on"]})


def test_connection_requires_session_id_and_csrf_token():
    with pytest.raises(IcwsProtocolError, match="csrfToken"):
        Connection.from_json({"sessionId": "1"})
    conn = Connection.from_json(
        {
            "sessionId": "1",
            "csrfToken": "t",
            "alternateHostList": ["cic2", 3],
            "features": [{"featureId": "dialer", "version": 7}],
        }
    )
    assert conn.alternate_hosts == ("cic2",)
    assert conn.features[0].version == 7


def test_user_status_times_are_utc():
    status = UserStatus.from_json(
        {"userId": "u", "statusId": "Available", "statusChanged": "20210706T193229Z"}
    )
    assert status.status_changed == dt.datetime(2021, 7, 6, 19, 32, 29, tzinfo=dt.UTC)


@pytest.mark.parametrize("value", ["2021-07-06T19:32:29Z", "20210706T193229Z"])
def test_both_icws_time_forms_parse(value):
    assert parse_icws_time(value).year == 2021


def test_unknown_time_form_is_a_protocol_error():
    with pytest.raises(IcwsProtocolError):
        parse_icws_time("yesterday")
