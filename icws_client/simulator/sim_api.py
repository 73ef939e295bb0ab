"""The simulator's own endpoints under /sim/ (not ICWS; no authentication; loopback by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ErrorAnswer, bad_request, not_found
from .faults import FaultError
from .routing import Request, Response, Route

if TYPE_CHECKING:
    from .app import App


def _object(req: Request) -> dict[str, Any]:
    body = req.json()
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def state(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, app.world.snapshot())


def get_faults(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, app.faults.snapshot())


def set_faults(app: App, req: Request, params: dict[str, str]) -> Response:
    try:
        app.set_faults(_object(req))
    except FaultError as exc:
        raise ErrorAnswer(400, "error.sim.invalidFault", str(exc)) from None
    return Response(200, app.faults.snapshot())


def clear_faults(app: App, req: Request, params: dict[str, str]) -> Response:
    app.faults.clear()
    return Response(200, app.faults.snapshot())


def user_status(app: App, req: Request, params: dict[str, str]) -> Response:
    body = _object(req)
    for key in body:
        if key not in ("userId", "statusId", "onPhone", "loggedIn"):
            raise bad_request(f"unknown field {key!r}; known: userId, statusId, onPhone, loggedIn")
    for key in ("userId", "statusId"):
        if not isinstance(body.get(key), str):
            raise bad_request(f"{key} is required and must be a string")
    for key in ("onPhone", "loggedIn"):
        if key in body and not isinstance(body[key], bool):
            raise bad_request(f"{key} must be true or false")
    if body["userId"] not in app.world.users:
        raise not_found(f"No user with id '{body['userId']}'.")
    if body["statusId"] not in app.world.status_ids:
        raise bad_request(f"statusId {body['statusId']!r} is not one of the status messages")
    status = app.change_user_status(
        body["userId"], body["statusId"], body.get("onPhone"), body.get("loggedIn")
    )
    return Response(200, status)


def moves(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, app.world.move_log())


def reset(app: App, req: Request, params: dict[str, str]) -> Response:
    app.reset()
    return Response(204)


def calls(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, app.call_counts())


def clear_calls(app: App, req: Request, params: dict[str, str]) -> Response:
    app.clear_call_counts()
    return Response(204)


def dialer_login(app: App, req: Request, params: dict[str, str]) -> Response:
    """Log a user in to (or out of) Dialer, as their own CIC client would."""
    body = _object(req)
    for key in body:
        if key not in ("userId", "loggedIn"):
            raise bad_request(f"unknown field {key!r}; known: userId, loggedIn")
    if not isinstance(body.get("userId"), str):
        raise bad_request("userId is required and must be a string")
    if not isinstance(body.get("loggedIn", True), bool):
        raise bad_request("loggedIn must be true or false")
    if body["userId"] not in app.world.users:
        raise not_found(f"No user with id '{body['userId']}'.")
    app.agent_dialer.set_logged_in(body["userId"], body.get("loggedIn", True))
    return Response(200, {"loggedIn": app.agent_dialer.logins()})


def dialer_logins(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, {"loggedIn": app.agent_dialer.logins()})


def ready_calls(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, app.agent_dialer.calls())


def clear_ready_calls(app: App, req: Request, params: dict[str, str]) -> Response:
    app.agent_dialer.clear_calls()
    return Response(204)


ROUTES = [
    Route("/sim/state", {"GET": state}),
    Route("/sim/faults", {"GET": get_faults, "POST": set_faults, "DELETE": clear_faults}),
    Route("/sim/user-status", {"POST": user_status}),
    Route("/sim/moves", {"GET": moves}),
    Route("/sim/reset", {"POST": reset}),
    Route("/sim/calls", {"GET": calls, "DELETE": clear_calls}),
    Route("/sim/dialer-login", {"GET": dialer_logins, "POST": dialer_login}),
    Route("/sim/ready-for-calls", {"GET": ready_calls, "DELETE": clear_ready_calls}),
]
