"""``App``: everything behind the HTTP layer, and the request pipeline.

It is given its routes (``simulator.py`` passes ``icws_api.ROUTES + sim_api.ROUTES``), so the
endpoint modules depend on it only for type hints and it imports none of them: the modules form a
tree (simulator -> app, server, icws_api, sim_api -> state, sessions, faults, ...).
Pipeline per request: route -> "down" fault -> body errors -> injected latency / 503 / status ->
404 / 405 -> session authentication -> endpoint. Every /icws request is counted for /sim/calls.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
from collections import Counter
from typing import Any

from .clients import LiveClients
from .dialer import AgentDialer, Allocator
from .errors import ErrorAnswer, fault_error, not_found, unauthorized
from .faults import Faults
from .routing import Match, Request, Response, Route, Router
from .sessions import Session, SessionStore, connection_lost_message
from .state import USER_STATUS_MESSAGE, World, filter_status

log = logging.getLogger("icws_client.simulator")

_SESSION_SEGMENT = re.compile(r"^/icws/(?!connection(?:/|$))[^/]+")


class App:
    """Everything behind the HTTP layer: world, sessions, faults, allocator, request counters."""

    def __init__(
        self,
        seed: dict[str, Any],
        *,
        apply_delay: float,
        session_idle_timeout: float,
        service_user: str,
        service_password: str,
        dialer_version: int,
        routes: list[Route],
        alternate_hosts: tuple[str, ...] = (),
        messaging_version: int = 2,
        rich_campaigns: bool = False,
    ) -> None:
        self.messaging_version = messaging_version  # >= 2: server-sent events
        self.alternate_hosts = alternate_hosts  # the 201's alternateHostList
        self.seed = seed
        self.service_user = service_user
        self._service_password = service_password
        self.dialer_version = dialer_version
        self.world = World(seed, service_user, rich_campaigns=rich_campaigns)
        self.sessions = SessionStore(session_idle_timeout)
        self.clients = LiveClients(self.world, service_user)  # agents' own CIC clients
        self.faults = Faults()
        self.allocator = Allocator(self.world, self.sessions, apply_delay)
        self.agent_dialer = AgentDialer()  # Dialer log-ins and ready-for-calls calls
        self.router = Router(routes)
        self.stopping = threading.Event()  # wakes injected-latency sleeps on stop
        self._counts: Counter[tuple[str, str, int]] = Counter()
        self._counts_lock = threading.Lock()

    # -- used by endpoints ----------------------------------------------------------------

    def feature_versions(self) -> dict[str, int]:
        return {
            "connection": 11,
            "messaging": self.messaging_version,
            "dialer": self.dialer_version,
            "configuration": 20,
            "status": 4,
        }

    def check_credentials(self, user_id: str, password: str) -> dict[str, Any] | None:
        """The user record if ``password`` is right for ``user_id``, else None."""
        if user_id == self.service_user:
            expected = self._service_password
        else:
            expected = self.world.users.get(user_id, {}).get("password")
        if not expected or not hmac.compare_digest(password.encode(), expected.encode()):
            return None
        return self.world.users[user_id]

    def set_faults(self, data: Any) -> None:
        if self.faults.update(data):
            self.sessions.end_all(connection_lost_message("The server ended the session."))

    def change_user_status(
        self, user_id: str, status_id: str, on_phone: bool | None, logged_in: bool | None
    ) -> dict[str, Any]:
        status = self.world.set_user_status(user_id, status_id, on_phone, logged_in)
        for session in self.sessions.status_subscribers(user_id):
            self.sessions.push(
                session,
                {
                    "__type": USER_STATUS_MESSAGE,
                    "isDelta": True,
                    "userStatusList": [filter_status(status, session.status_properties)],
                },
            )
        return status

    def reset(self) -> None:
        self.allocator.clear()
        self.agent_dialer.reset()
        self.world.load(self.seed, self.service_user)
        self.clients.load(self.world, self.service_user)
        self.sessions.clear()
        self.faults.clear()
        self.clear_call_counts()

    def call_counts(self) -> list[dict[str, Any]]:
        with self._counts_lock:
            items = sorted(self._counts.items())
        return [{"method": m, "path": p, "status": s, "count": n} for (m, p, s), n in items]

    def clear_call_counts(self) -> None:
        with self._counts_lock:
            self._counts.clear()

    # -- the pipeline ---------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        """Answer ``req``; never raises. /icws requests are counted by route template."""
        match = Match(None, {})
        try:
            match = self.router.match(req.path)
            response = self._handle(req, match)
        except ErrorAnswer as exc:
            response = Response(exc.status, exc.body(), exc.headers)
        except UnicodeDecodeError:
            response = _error_response(ErrorAnswer(400, None, "The path is not valid UTF-8."))
        except Exception:
            log.exception("unexpected error in %s %s", req.method, match.template)
            response = _error_response(
                ErrorAnswer(500, None, "The simulator failed unexpectedly; see its log.")
            )
        response.trickle = req.trickle
        if req.path == "/icws" or req.path.startswith("/icws/"):
            key = (req.method, match.template, 0 if response.drop else response.status)
            with self._counts_lock:
                self._counts[key] += 1
        return response

    def _handle(self, req: Request, match: Match) -> Response:
        route = match.route
        if req.path.startswith("/icws/"):
            decision = self.faults.decide(
                req.path,
                session_scoped=route is not None and route.session,
                connect=route is not None and route.template == "/icws/connection",
                host=req.host,
            )
            if decision.down:
                return Response(0, drop=True)
            req.trickle = decision.trickle
            if req.body_error is not None:
                raise req.body_error
            if decision.latency:
                self.stopping.wait(decision.latency)
            if decision.connect_503 is not None:
                raise ErrorAnswer(
                    503,
                    "error.server.notAcceptingConnections",
                    "The session manager is not accepting connections; use an alternate host.",
                    extra={"alternateHostList": list(decision.connect_503)},
                )
            if decision.status is not None:
                raise fault_error(decision.status, decision.error_id, decision.message)
        elif req.body_error is not None:
            raise req.body_error
        if route is None:
            raise not_found(f"There is no resource at {mask(req.path)}.")
        handler = route.methods.get(req.method)
        if handler is None:
            raise ErrorAnswer(
                405,
                "error.request.accessDenied.httpMethodNotAllowed",
                f"{req.method} is not allowed here; allowed: {', '.join(route.methods)}.",
                headers={"Allow": ", ".join(route.methods)},
            )
        if route.session:
            req.session = self._authenticate(req, match.params["sessionId"], route.csrf_optional)
        return handler(self, req, match.params)

    def _authenticate(self, req: Request, session_id: str, csrf_optional: bool) -> Session:
        session = self.sessions.find(session_id)
        if session is None and csrf_optional:  # the queue (the only such route): one last read
            session = self.sessions.take_ended(session_id)
        if session is None:
            raise unauthorized(1)
        token = req.header("ININ-ICWS-CSRF-Token")
        if not (csrf_optional and token is None) and not session.csrf_matches(token):
            raise unauthorized(2)
        if not session.cookie_matches(req.cookie(session.cookie_name)):
            raise unauthorized(2)
        self.sessions.touch(session)
        return session


def _error_response(exc: ErrorAnswer) -> Response:
    return Response(exc.status, exc.body(), exc.headers)


def mask(path: str) -> str:
    """The path with its session id replaced, for logs and messages."""
    return _SESSION_SEGMENT.sub("/icws/{sessionId}", path, count=1)
