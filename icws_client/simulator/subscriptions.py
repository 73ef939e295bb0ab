"""Subscriptions (REF 4.2, 4.3, 5): user statuses, sessions-users, and the simulated agent clients.

``PUT .../messaging/subscriptions/status/user-statuses`` and ``.../session/sessions-users``
answer 204 and queue an ``isDelta: false`` snapshot at once; later changes queue deltas
(``/sim/user-status``, ``/sim/client``); the agents' clients are ``clients.py``. The choices
are listed in the package docstring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clients import CLIENT_APPLICATION, sessions_message
from .errors import bad_request, invalid_property, missing_property, not_found
from .routing import Request, Response, Route
from .state import USER_STATUS_MESSAGE, USER_STATUS_PROPERTIES, filter_status

if TYPE_CHECKING:
    from .app import App


def _user_ids(body: Any, allowed: tuple[str, ...], what: str) -> list[str]:
    if not isinstance(body, dict):
        raise bad_request(f"The request body must be a JSON object ({what}).")
    for key in body:
        if key not in allowed:
            raise invalid_property(key, f"'{key}' is not a property of the subscription.")
    user_ids = body.get("userIds")
    if user_ids is None:
        raise missing_property("userIds")
    if not isinstance(user_ids, list) or not all(isinstance(u, str) and u for u in user_ids):
        raise invalid_property("userIds", "userIds must be a list of non-empty strings.")
    if not user_ids:
        raise invalid_property("userIds", "userIds must contain at least one user id.")
    return list(dict.fromkeys(user_ids))


def _known(app: App, user_ids: list[str]) -> None:
    unknown = [u for u in user_ids if u not in app.world.users]
    if unknown:
        raise not_found(f"Unknown user ids: {', '.join(repr(u) for u in unknown[:10])}.")


# -- user statuses (REF 4.2) ----------------------------------------------------------------


def subscribe_statuses(app: App, req: Request, params: dict[str, str]) -> Response:
    body = req.json()
    user_ids = _user_ids(body, ("userIds", "userStatusProperties"), "userStatusSubscription")
    props = body.get("userStatusProperties")
    if props is not None:
        if not isinstance(props, list) or not all(p in USER_STATUS_PROPERTIES for p in props):
            raise invalid_property(
                "userStatusProperties",
                f"userStatusProperties must be a list of: {', '.join(USER_STATUS_PROPERTIES)}.",
            )
        props = tuple(props)
    _known(app, user_ids)
    statuses = [app.world.user_status(u) for u in user_ids]
    session = req.session
    assert session is not None
    app.sessions.subscribe_statuses(session, user_ids, props)
    message = {
        "__type": USER_STATUS_MESSAGE,
        "isDelta": False,
        "userStatusList": [filter_status(s, props) for s in statuses if s is not None],
    }
    app.sessions.push(session, message)
    return Response(204)


def unsubscribe_statuses(app: App, req: Request, params: dict[str, str]) -> Response:
    assert req.session is not None
    app.sessions.unsubscribe_statuses(req.session)
    return Response(204)


# -- sessions-users (REF 4.3) ---------------------------------------------------------------


def subscribe_clients(app: App, req: Request, params: dict[str, str]) -> Response:
    user_ids = _user_ids(req.json(), ("userIds",), "sessionsUsersSubscription")
    _known(app, user_ids)
    session = req.session
    assert session is not None
    app.sessions.subscribe_clients(session, user_ids)
    message = sessions_message(app.clients.of(user_ids), [], is_delta=False)
    app.sessions.push(session, message)
    return Response(204)


def unsubscribe_clients(app: App, req: Request, params: dict[str, str]) -> Response:
    assert req.session is not None
    app.sessions.subscribe_clients(req.session, [])
    return Response(204)


# -- /sim/client (not ICWS) -----------------------------------------------------------------


def sim_client(app: App, req: Request, params: dict[str, str]) -> Response:
    """``POST /sim/client {"userId", "connected": bool, "applicationName"?}``: an agent's client
    logs in or out; subscribers of that user get a sessionsMessage delta."""
    body = req.json()
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for key in body:
        if key not in ("userId", "connected", "applicationName"):
            raise bad_request(f"unknown field {key!r}; known: userId, connected, applicationName")
    user_id = body.get("userId")
    if not isinstance(user_id, str):
        raise bad_request("userId is required and must be a string")
    if not isinstance(body.get("connected"), bool):
        raise bad_request("connected is required and must be true or false")
    application = body.get("applicationName", CLIENT_APPLICATION)
    if not isinstance(application, str) or not application:
        raise bad_request("applicationName must be a non-empty string")
    if user_id not in app.world.users:
        raise not_found(f"No user with id '{user_id}'.")
    if body["connected"]:
        entry = app.clients.connect(app.world, user_id, application)
        message = sessions_message([entry], [], is_delta=True) if entry else None
    else:
        entry = app.clients.disconnect(user_id)
        message = sessions_message([], [entry], is_delta=True) if entry else None
    if message is not None:
        for session in app.sessions.client_subscribers(user_id):
            app.sessions.push(session, message)
    changed = entry is not None
    return Response(200, {"userId": user_id, "connected": body["connected"], "changed": changed})


def sim_clients(app: App, req: Request, params: dict[str, str]) -> Response:
    return Response(200, app.clients.snapshot())


S = "/icws/{sessionId}/messaging/subscriptions"

ROUTES = [
    Route(
        f"{S}/status/user-statuses",
        {"PUT": subscribe_statuses, "DELETE": unsubscribe_statuses},
        session=True,
    ),
    Route(
        f"{S}/session/sessions-users",
        {"PUT": subscribe_clients, "DELETE": unsubscribe_clients},
        session=True,
    ),
    Route("/sim/client", {"POST": sim_client}),
    Route("/sim/clients", {"GET": sim_clients}),
]
