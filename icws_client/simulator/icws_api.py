"""The ICWS endpoints under /icws; every handler takes (app, request, path parameters)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import dialer, query
from .errors import (
    AUTH_FAILURE_CODE,
    ErrorAnswer,
    bad_request,
    invalid_property,
    missing_property,
    no_licence,
    not_found,
)
from .routing import Request, Response, Route
from .state import icws_time

if TYPE_CHECKING:
    from .app import App

IC_AUTH_TYPE = "urn:inin.com:connection:icAuthConnectionRequestSettings"
UNSUPPORTED_CONNECT_TYPES = (
    "urn:inin.com:connection:authTokenConnectionRequestSettings",
    "urn:inin.com:connection:singleSignOnTokenConnectionRequestSettings",
)
CONNECT_PROPERTIES = (
    "__type",
    "applicationName",
    "userID",
    "password",
    "marketPlaceApplicationLicenseName",
    "marketPlaceApplicationCode",
)
INCLUDE_SUPPORTED = ("features", "version", "server-time")
INCLUDE_IGNORED = ("default-workstation", "purecloud-integration", "effective-station")
DAYS_UNTIL_PASSWORD_EXPIRATION = 90

VERSION = {
    "majorVersion": 2018,
    "minorVersion": 1,
    "su": 0,
    "build": "18.1.0.0",
    "productId": "ININ.IC",
    "codebaseId": "18.1",
    "productReleaseDisplayString": "2018 R1",
    "productPatchDisplayString": "",
    "productSUDisplayString": "",
}


def feature_list(app: App) -> list[dict[str, Any]]:
    return [{"featureId": k, "version": v} for k, v in app.feature_versions().items()]


# -- connection (REF 2) ---------------------------------------------------------------------


def _include(req: Request) -> set[str]:
    raw = req.query.get("include")
    if raw is None:
        return set()
    wanted = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(wanted - set(INCLUDE_SUPPORTED) - set(INCLUDE_IGNORED))
    if unknown:
        raise bad_request(
            f"include: unknown value '{unknown[0]}'.", error_id="error.request.invalidParameter"
        )
    return wanted


def connect(app: App, req: Request, params: dict[str, str]) -> Response:
    language = req.header("Accept-Language")
    if not language or not language.strip():
        raise ErrorAnswer(
            400,
            "error.request.missingHeader",
            "The Accept-Language header is required to create a connection.",
        )
    include = _include(req)
    body = req.json()
    if body is None:
        raise bad_request("The request body is required: an icAuthConnectionRequestSettings.")
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    kind = body.get("__type")
    if kind is None:
        raise missing_property("__type")
    if kind in UNSUPPORTED_CONNECT_TYPES:
        raise ErrorAnswer(
            400,
            "error.request.unsupported",
            f"Connection requests of type '{kind}' are not supported by this simulator; "
            f"use '{IC_AUTH_TYPE}'.",
        )
    if kind != IC_AUTH_TYPE:
        raise invalid_property("__type", f"__type '{kind}' is not a connection request type.")
    for key in body:
        if key not in CONNECT_PROPERTIES:
            raise invalid_property(key, f"'{key}' is not a property of {IC_AUTH_TYPE}.")
    for name in ("applicationName", "userID", "password"):
        if body.get(name) is None:
            raise missing_property(name)
    for name in CONNECT_PROPERTIES[1:]:
        if name in body and not isinstance(body[name], str):
            raise invalid_property(name, f"{name} must be a string.")
    if not body["applicationName"].strip():
        raise invalid_property("applicationName", "applicationName must not be empty.")
    user = app.check_credentials(body["userID"], body["password"])
    if user is None:
        raise ErrorAnswer(
            400,
            "error.request.connection.authenticationFailure",
            "The authentication process failed.",
            error_code=AUTH_FAILURE_CODE,
        )
    session = app.sessions.create(
        user["id"],
        user.get("displayName") or user["id"],
        body["applicationName"],
        language.split(",")[0].strip(),
    )
    answer: dict[str, Any] = {
        "csrfToken": session.csrf_token,
        "sessionId": session.id,
        "alternateHostList": app.faults.alternate_hosts() or list(app.alternate_hosts),
        "userID": session.user_id,
        "userDisplayName": session.display_name,
        "icServer": app.world.ic_server,
        "daysUntilPasswordExpiration": DAYS_UNTIL_PASSWORD_EXPIRATION,
    }
    if "version" in include:
        answer["version"] = dict(VERSION)
    if "features" in include:
        answer["features"] = feature_list(app)
    if "server-time" in include:
        answer["serverTimeInfo"] = {"serverUtcTime": icws_time(time.time())}
    return Response(
        201,
        answer,
        {
            "ININ-ICWS-Session-ID": session.id,
            "ININ-ICWS-CSRF-Token": session.csrf_token,
            # as recorded from a live server (REF 10), less Secure: this server speaks http only
            "Set-Cookie": (
                f"{session.cookie_name}={session.cookie_value}; Path=/icws/{session.id}; HttpOnly"
            ),
            "Location": f"/icws/{session.id}/connection",
        },
    )


def features(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, {"featureInfoList": feature_list(app)})


def feature(app: App, req: Request, params: dict[str, str]) -> Response:
    version = app.feature_versions().get(params["featureId"])
    if version is None:
        raise ErrorAnswer(
            400,
            "error.request.unsupported",
            f"The feature '{params['featureId']}' is not supported by this server.",
        )
    return Response(200, {"featureId": params["featureId"], "version": version})


def version(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, dict(VERSION))


def server_time(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, {"serverUtcTime": icws_time(time.time())})


def connection_state(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, {"connectionState": 1, "reason": "Connected.", "shouldReconnect": False})


def switchover_status(app: App, req: Request, params: dict[str, str]) -> Response:
    body: dict[str, Any] = {"isSwitchoverActive": False, "primaryHost": app.world.ic_server}
    if app.alternate_hosts:
        body["backupHost"] = app.alternate_hosts[0]
    return Response(200, body)


def disconnect(app: App, req: Request, params: dict[str, str]) -> Response:
    app.sessions.remove(params["sessionId"])
    return Response(204)


# -- configuration (REF 4.1) ----------------------------------------------------------------


def _config_list(kind: str):
    def handler(app: App, req: Request, params: dict[str, str]) -> Response:
        items = app.world.items_by_kind[kind]
        props = query.properties_of(kind, app.world.rich_campaigns)
        result = query.run_list(items, kind, req.query, req.header("Range"), props)
        return Response(result.status, result.body, result.headers)

    return handler


def _config_one(kind: str):
    def handler(app: App, req: Request, params: dict[str, str]) -> Response:
        items = app.world.items_by_kind[kind]
        props = query.properties_of(kind, app.world.rich_campaigns)
        found = query.find_one(items, kind, params["id"], req.query, props)
        if found is None:
            raise not_found(f"configuration/{kind}: no object with id '{params['id']}'.")
        return Response(200, found)

    return handler


# -- status (REF 4.2) -----------------------------------------------------------------------


def status_messages(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, {"statusMessageList": app.world.status_messages})


def user_status(app: App, req: Request, params: dict[str, str]) -> Response:
    status = app.world.user_status(params["userId"])
    if status is None:
        raise not_found(f"No user with id '{params['userId']}'.")
    return Response(200, status)


# -- dialer (REF 3.2) -----------------------------------------------------------------------


def allocate_agents(app: App, req: Request, params: dict[str, str]) -> Response:
    if app.dialer_version < 7:
        raise ErrorAnswer(
            400,
            "error.request.unsupported",
            f"allocate-agents needs feature dialer 7; this server has dialer {app.dialer_version}.",
        )
    if not app.faults.licence:
        raise no_licence()
    agents, ins, outs = dialer.parse_allocation(req.json(), app.world)
    session = req.session
    assert session is not None
    app.allocator.submit(agents, ins, outs, session.user_id, session.display_name)
    return Response(202)


def ready_for_calls(app: App, req: Request, params: dict[str, str]) -> Response:
    session = req.session
    assert session is not None
    record = app.agent_dialer.record
    if not app.faults.licence:
        record(session.user_id, session.application_name, None, 403)
        raise no_licence()
    campaign_ids = dialer.parse_ready_for_calls(req.json(), app.world)
    if campaign_ids is not None and app.dialer_version < 4:
        raise ErrorAnswer(
            400,
            "error.request.unsupported",
            f"campaignIds needs feature dialer 4; this server has dialer {app.dialer_version}.",
        )
    if not app.agent_dialer.logged_in(session.user_id):
        record(session.user_id, session.application_name, campaign_ids, 400)
        raise ErrorAnswer(400, "", dialer.NOT_LOGGED_IN_MESSAGE)  # no errorId on record
    record(session.user_id, session.application_name, campaign_ids, 200)
    return Response(200)


S = "/icws/{sessionId}"
CAMPAIGNS = "interaction-dialer-campaign-acls"

ROUTES = [
    Route("/icws/connection", {"POST": connect}),
    Route("/icws/connection/features", {"GET": features}),
    Route("/icws/connection/features/{featureId}", {"GET": feature}),
    Route("/icws/connection/version", {"GET": version}),
    Route("/icws/connection/server-time", {"GET": server_time}),
    Route(f"{S}/connection", {"GET": connection_state, "DELETE": disconnect}, session=True),
    Route(f"{S}/connection/switchover-status", {"GET": switchover_status}, session=True),
    *(
        route
        for kind in ("users", "workgroups", CAMPAIGNS)
        for route in (
            Route(f"{S}/configuration/{kind}", {"GET": _config_list(kind)}, session=True),
            Route(f"{S}/configuration/{kind}/{{id}}", {"GET": _config_one(kind)}, session=True),
        )
    ),
    Route(f"{S}/status/status-messages", {"GET": status_messages}, session=True),
    Route(f"{S}/status/user-statuses/{{userId}}", {"GET": user_status}, session=True),
    Route(f"{S}/dialer/allocate-agents", {"POST": allocate_agents}, session=True),
    Route(f"{S}/dialer/ready-for-calls", {"POST": ready_for_calls}, session=True),
]
