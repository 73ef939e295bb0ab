import pickle

import pytest

from icws_client import (
    IcwsBadRequest,
    IcwsConnectionError,
    IcwsError,
    IcwsForbidden,
    IcwsGone,
    IcwsNotFound,
    IcwsProtocolError,
    IcwsServerError,
    IcwsTimeout,
    IcwsUnauthorized,
    IcwsUnavailable,
    error_for_status,
)

BODY = {"errorId": "error.some.thing", "message": "Something went wrong", "errorCode": 7}


@pytest.mark.parametrize(
    ("status", "cls", "transient"),
    [
        (400, IcwsBadRequest, False),
        (401, IcwsUnauthorized, False),
        (403, IcwsForbidden, False),
        (404, IcwsNotFound, False),
        (410, IcwsGone, False),
        (500, IcwsServerError, True),
        (503, IcwsUnavailable, True),
        (502, IcwsServerError, True),  # undocumented 5xx: a server problem all the same
        (418, IcwsProtocolError, False),  # undocumented 4xx: not something ICWS sends
    ],
)
def test_each_status_maps_to_its_class(status, cls, transient):
    err = error_for_status(status, BODY, request="POST /icws/{sessionId}/dialer/allocate-agents")
    assert type(err) is cls
    assert isinstance(err, IcwsError)
    assert err.status == status
    assert err.error_id == "error.some.thing"
    assert err.message == "Something went wrong"
    assert err.error_code == 7
    assert err.body == BODY
    assert err.transient is transient


def test_missing_or_malformed_fields_fall_back_to_class_defaults():
    err = error_for_status(403, {"message": 12, "errorId": None, "errorCode": "x"})
    assert err.message == IcwsForbidden.default_message
    assert err.error_id is None
    assert err.error_code is None


def test_non_json_body_is_kept_and_does_not_break_mapping():
    err = error_for_status(500, "<html>proxy error</html>")
    assert isinstance(err, IcwsServerError)
    assert err.body == "<html>proxy error</html>"


def test_boolean_error_code_is_not_taken_for_an_integer():
    assert error_for_status(400, {"message": "m", "errorCode": True}).error_code is None


def test_unavailable_carries_alternate_hosts_and_ignores_junk():
    err = error_for_status(
        503,
        {
            "errorId": "error.server.notAcceptingConnections",
            "message": "m",
            "alternateHostList": ["cic2", "", 5, "cic3"],
        },
    )
    assert err.alternate_hosts == ("cic2", "cic3")


@pytest.mark.parametrize(
    "err",
    [
        error_for_status(400, BODY, request="POST /icws/connection"),
        error_for_status(503, {**BODY, "alternateHostList": ["cic2"]}),
        IcwsTimeout("No answer within 2 s", request="GET /x"),
        IcwsConnectionError("refused"),
    ],
)
def test_errors_pickle_with_every_field(err):
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    for field in ("message", "status", "error_id", "error_code", "body", "request", "transient"):
        assert getattr(copy, field) == getattr(err, field)
    assert str(copy) == str(err)
    if isinstance(err, IcwsUnavailable):
        assert copy.alternate_hosts == ("cic2",)


def test_str_names_status_error_id_and_call_but_stays_readable():
    err = error_for_status(
        403,
        {"errorId": "error.noLicense", "message": "No licence"},
        request="POST /icws/{sessionId}/dialer/allocate-agents",
    )
    assert str(err) == (
        "No licence (HTTP 403, error.noLicense, POST /icws/{sessionId}/dialer/allocate-agents)"
    )


def test_transport_errors_have_no_status():
    assert IcwsConnectionError("x").status is None
    assert issubclass(IcwsTimeout, IcwsConnectionError)
