"""``IcwsClient``: a small, strict client for the ICWS calls the dashboard needs.

Where things are (``icws_client/``)
    ``client.py`` (this) the calls and their retry policy; ``session.py`` connect, tokens,
    reconnect and the one way out for every HTTP request; ``hosts.py`` alternate hosts and
    failover; ``_http.py`` one request under one deadline (``_deadline.py``); ``hooks.py`` the
    ``on_call`` hook; ``exceptions.py`` typed errors; ``models.py`` typed answers;
    ``simulator/`` a strict ICWS simulator. Section numbers (``REF 2.1``) point into
    ``shared/icws/REFERENCE.md``.

Retry policy (documented so that nobody stacks another one on top)
    * Reads (configuration lists, features, statuses) are idempotent: a 500, 503 or transport error
      (refused, reset, timeout) is retried up to ``read_retries`` times with capped, jittered
      exponential backoff (``backoff_base`` doubling up to ``backoff_cap`` seconds).
    * Writes (``allocate_agents``, ``ready_for_calls``) are **never** retried by the client beyond
      the one reconnect of ``session.py`` (a 401/410, or a host that took nothing): a timed-out
      POST may have been applied. The caller (the Celery job) owns their retry policy.
    * 400, 403 and 404 are never retried anywhere: repeating them cannot succeed.

Timeouts
    Every request has one overall deadline of ``timeout`` seconds covering connect, headers and
    body (``_deadline.py``). A write whose status line came in time is answered by it
    (``session.py``: "a 202 is the answer").

Local refusals
    ``allocate_agents`` with no agents, or with neither campaigns in nor out, raises
    ``IcwsRequestRefused`` and sends nothing.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from . import _http, hooks
from ._checks import content_range_total, field, id_list
from .events import EventStream
from .exceptions import (
    IcwsBadRequest,
    IcwsError,
    IcwsNotFound,
    IcwsProtocolError,
    IcwsRequestRefused,
    IcwsUnsupportedFeature,
)
from .hosts import Hosts
from .models import (
    Campaign,
    Connection,
    Feature,
    StatusMessage,
    SwitchoverStatus,
    User,
    UserStatus,
    Workgroup,
)
from .session import Session

log = logging.getLogger("icws_client")

T = TypeVar("T")

USER_STATUS_MESSAGE = "urn:inin.com:status:userStatusMessage"
ALLOCATE_AGENTS_FEATURE = ("dialer", 7)  # REF 3.2
READY_FOR_CALLS_CAMPAIGNS_FEATURE = ("dialer", 4)
SWITCHOVER_FEATURE = ("connection", 11)  # REF 2.4
PAGE_SIZE = 200  # REF 4.1: at most 200 items per response when `select` is given
MAX_PAGES = 10_000  # a server that never reports the end cannot keep us paging forever


@dataclass(frozen=True)
class SessionTokens:
    """What another process needs to use an open session: never the password.

    Whoever holds these can act as the user until the session ends, so they are kept
    server-side only and the session is closed (``DELETE connection``) when no longer needed.
    """

    user_id: str
    host: str
    session_id: str
    csrf_token: str
    cookie: str


@dataclass(frozen=True)
class UserAccess:
    """A user's roles and workgroups (``configuration/users/{id}``), as ids and display names."""

    user_id: str
    display_name: str
    roles: tuple[str, ...]
    workgroups: tuple[str, ...]
    role_names: tuple[str, ...] = ()
    workgroup_names: tuple[str, ...] = ()


class IcwsClient:
    """One ICWS session for one user, reused across calls; safe to share between threads.

    ``allowed_alternate_hosts``: host names the client may fail over to (``hosts.py``); none by
    default. ``on_call``: called with an ``IcwsCall`` after every HTTP request (``hooks.py``).
    """

    def __init__(
        self,
        base_url: str,
        user_id: str,
        password: str,
        application_name: str = "CIC Supervisor Dashboard",
        language: str = "en-us",
        timeout: float = 10.0,
        *,
        max_host_hops: int = 5,
        allowed_alternate_hosts: Iterable[str] = (),
        read_retries: int = 2,
        backoff_base: float = 0.25,
        backoff_cap: float = 2.0,
        http_session: requests.Session | None = None,
        on_call: hooks.OnCall | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"ICWS base_url must start with http:// or https://, got {base_url!r}")
        if not parts.hostname:
            raise ValueError(f"ICWS base_url has no host name: {base_url!r}")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(
                f"ICWS base_url must be scheme://host[:port] without a path, got {base_url!r}"
            )
        if not user_id or not password:
            raise ValueError("ICWS user_id and password must not be empty")
        if not (isinstance(timeout, int | float) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self._user_id = user_id
        self.read_retries = read_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.hosts = Hosts(
            parts.scheme,
            parts.hostname,
            parts.port or (443 if parts.scheme == "https" else 80),
            allowed_alternate_hosts=allowed_alternate_hosts,
            max_host_hops=max_host_hops,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
        )
        self._session = Session(
            self.hosts,
            user_id,
            password,
            application_name=application_name,
            language=language,
            timeout=float(timeout),
            http_session=http_session,
            on_call=on_call,
        )
        self._buffered_messages: list[dict[str, Any]] = []

    def __repr__(self) -> str:  # never shows the password
        return f"IcwsClient({self.base_url!r}, user_id={self._user_id!r})"

    # -- connection ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The host in use now: the configured one, or the alternate that accepted us."""
        return self.hosts.url(self.hosts.current)

    @property
    def connection(self) -> Connection | None:
        return self._session.connection

    @property
    def timeout(self) -> float:
        """Seconds each HTTP request may take in all (connect, headers and body)."""
        return self._session.timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        self._session.timeout = float(value)

    def __enter__(self) -> IcwsClient:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> Connection:
        """Open a session (REF 2.1), following allowed alternate hosts (REF 2.6). Idempotent."""
        return self._session.connect()

    def close(self) -> None:
        """Log out (``DELETE /icws/{sessionId}/connection``). Safe to call twice."""
        self._session.close()

    def session_tokens(self) -> SessionTokens:
        """The open session's tokens (connecting first), for ``resume`` in another process."""
        conn = self.connect()
        return SessionTokens(
            user_id=conn.user_id or self._user_id,
            host=self.hosts.current,
            session_id=conn.session_id,
            csrf_token=conn.csrf_token,
            cookie=self._session.cookie,
        )

    @classmethod
    def resume(cls, base_url: str, tokens: SessionTokens, **options: Any) -> IcwsClient:
        """A client on a session opened elsewhere (``session_tokens``), holding no password.

        It never reconnects: a 401 or 410 means the session is gone and only its user can open a
        new one (sign in again). ``close()`` logs the session out as usual.
        """
        # The constructor insists on a password; a resumed client must hold none, so the
        # placeholder is dropped at once and ``Session`` then refuses to reconnect.
        client = cls(base_url, tokens.user_id, "-", **options)
        client._session._password = ""
        conn = Connection(
            session_id=tokens.session_id,
            csrf_token=tokens.csrf_token,
            user_id=tokens.user_id,
            user_display_name=tokens.user_id,
            ic_server="",
            alternate_hosts=(),
            features=(),
        )
        client._session.adopt(conn, tokens.cookie, tokens.host)
        return client

    def get_user_access(self, user_id: str) -> UserAccess:
        """The user's roles and workgroups as the record shows them (REF 4.1):
        ``GET configuration/users/{id}?select=roles,workgroups``, lists of ``configurationId``."""
        reply = self._session_call(
            "GET",
            "/configuration/users/{userId}",
            args={"userId": user_id},
            params={"select": "roles,workgroups"},
        )
        body = reply.body
        if not isinstance(body, dict):
            raise IcwsProtocolError("configuration/users/{id} must answer a JSON object")
        ident = body.get("configurationId") if isinstance(body.get("configurationId"), dict) else {}
        roles, role_names = _cids(body.get("roles"), "roles")
        groups, group_names = _cids(body.get("workgroups"), "workgroups")
        return UserAccess(
            user_id=str(ident.get("id") or user_id),
            display_name=str(ident.get("displayName") or ident.get("id") or user_id),
            roles=roles,
            workgroups=groups,
            role_names=role_names,
            workgroup_names=group_names,
        )

    def feature_version(self, feature_id: str) -> int | None:
        """Version of ``feature_id`` on the server, or None if it lacks the feature (REF 2.5)."""
        for feature in self.features():
            if feature.feature_id == feature_id:
                return feature.version
        return None

    def features(self) -> list[Feature]:
        """``GET /icws/connection/features``; needs no session."""

        def once() -> list[Feature]:
            reply = self._session.call_anonymous("GET", "/icws/connection/features")
            items = field(reply.body, "featureInfoList", list, "GET /icws/connection/features")
            return [Feature.from_json(item) for item in items]

        return self._with_read_retries(once)

    def switchover_status(self) -> SwitchoverStatus | None:
        """The switchover pair and whether a switchover is under way (REF 2.6, connection 11);
        None where the server does not have it (an older connection feature, or a 400/404)."""
        conn = self.connect()
        versions = {f.feature_id: f.version for f in conn.features}
        if conn.features and versions.get(SWITCHOVER_FEATURE[0], 0) < SWITCHOVER_FEATURE[1]:
            return None
        try:
            reply = self._session_call("GET", "/connection/switchover-status")
        except (IcwsBadRequest, IcwsNotFound):
            return None
        return SwitchoverStatus.from_json(reply.body)

    # -- dialer -------------------------------------------------------------------------------

    def allocate_agents(
        self,
        agent_ids: Iterable[str],
        campaign_ids_in: Iterable[str] = (),
        campaign_ids_out: Iterable[str] = (),
    ) -> None:
        """Move agents in and out of campaigns: ``POST dialer/allocate-agents`` (REF 3.2, dialer 7).

        Returns on 202: ICWS accepted the move and applies it asynchronously, with no per-agent
        result. Refuses locally (``IcwsRequestRefused``, nothing sent) when there are no agents, no
        campaigns in or out, duplicates, or a campaign both in and out. Never retried here
        (see the module docstring).
        """
        agents = id_list(agent_ids, "agent_ids")
        ins = id_list(campaign_ids_in, "campaign_ids_in")
        outs = id_list(campaign_ids_out, "campaign_ids_out")
        if not agents:
            raise IcwsRequestRefused("allocate_agents needs at least one agent id")
        if not ins and not outs:
            raise IcwsRequestRefused(
                "allocate_agents needs at least one campaign to move agents in to or out of"
            )
        both = sorted(set(ins) & set(outs))
        if both:
            raise IcwsRequestRefused(f"campaigns both in and out of the move: {', '.join(both)}")
        self._require_feature(*ALLOCATE_AGENTS_FEATURE, "allocate-agents")
        body: dict[str, Any] = {"agentIds": agents}
        if outs:
            body["campaignIdsOut"] = outs
        if ins:
            body["campaignIdsIn"] = ins
        self._session_call("POST", "/dialer/allocate-agents", body=body, write=True)

    def ready_for_calls(self, campaign_ids: Iterable[str] | None = None) -> None:
        """Tell Dialer the session's agent is ready for calls (REF 3.2, dialer 2; ids: dialer 4)."""
        body: dict[str, Any] = {}
        if campaign_ids is not None:
            ids = id_list(campaign_ids, "campaign_ids")
            if not ids:
                raise IcwsRequestRefused(
                    "ready_for_calls: campaign_ids, when given, must not be empty"
                )
            self._require_feature(*READY_FOR_CALLS_CAMPAIGNS_FEATURE, "ready-for-calls campaignIds")
            body["campaignIds"] = ids
        self._session_call("POST", "/dialer/ready-for-calls", body=body, write=True)

    # -- directory ----------------------------------------------------------------------------

    def list_users(self, where: str | None = None) -> list[User]:
        """Users with their workgroups (``configuration/users``, REF 4.1), all pages."""
        return self._list("users", "configurationId,workgroups,extension", User.from_json, where)

    def list_workgroups(self, where: str | None = None) -> list[Workgroup]:
        """Workgroups with members (``configuration/workgroups``)."""
        return self._list(
            "workgroups", "configurationId,members,isActive,hasQueue", Workgroup.from_json, where
        )

    def list_campaigns(self, where: str | None = None) -> list[Campaign]:
        """Dialer campaigns (``configuration/interaction-dialer-campaign-acls``, REF 3.4)."""
        return self._list("interaction-dialer-campaign-acls", "*", Campaign.from_json, where)

    def get_logon_campaign_right(self, user_id: str) -> bool | None:
        """Whether the user holds Dialer's Logon Campaign right, read as the record does
        (REF 3.1, 10): ``GET configuration/users/{id}?select=*&rightsFilter=loggedInUser``,
        ``securityRights.loginCampaign.effectiveValue``. None when the answer does not say
        (the property absent, or not a boolean); an error answer raises as usual."""
        reply = self._session_call(
            "GET",
            "/configuration/users/{userId}",
            args={"userId": user_id},
            params={"select": "*", "rightsFilter": "loggedInUser"},
        )
        body = reply.body
        if not isinstance(body, dict):
            raise IcwsProtocolError("configuration/users/{id} must answer a JSON object")
        rights = body.get("securityRights")
        right = rights.get("loginCampaign") if isinstance(rights, dict) else None
        value = right.get("effectiveValue") if isinstance(right, dict) else None
        return value if isinstance(value, bool) else None

    def list_status_messages(self) -> list[StatusMessage]:
        """The statuses users can be in (``status/status-messages``, REF 4.2)."""
        reply = self._session_call("GET", "/status/status-messages")
        items = field(reply.body, "statusMessageList", list, "status-messages")
        return [StatusMessage.from_json(item) for item in items]

    def get_user_status(self, user_id: str) -> UserStatus:
        """One user's presence (``status/user-statuses/{userId}``)."""
        reply = self._session_call(
            "GET", "/status/user-statuses/{userId}", args={"userId": user_id}
        )
        return UserStatus.from_json(reply.body)

    def get_user_statuses(self, user_ids: Iterable[str]) -> dict[str, UserStatus]:
        """Presence of many users in one round: subscribe, read the snapshot, unsubscribe.

        ICWS has no bulk status GET; the ``user-statuses`` subscription answers with a full
        (``isDelta: false``) ``userStatusMessage`` (REF 4.2, 5). Other messages that arrive
        meanwhile are kept for ``poll_messages``.
        """
        ids = id_list(user_ids, "user_ids")
        if not ids:
            return {}
        path = "/messaging/subscriptions/status/user-statuses"
        self._session_call("PUT", path, body={"userIds": ids}, write=True)
        try:
            wanted = set(ids)
            found: dict[str, UserStatus] = {}
            deadline = time.monotonic() + self.timeout
            while True:
                for message in self._fetch_messages():
                    snapshot = message.get("__type") == USER_STATUS_MESSAGE and not message.get(
                        "isDelta", False
                    )
                    if snapshot and not found:
                        statuses = field(message, "userStatusList", list, "userStatusMessage")
                        for item in statuses:
                            status = UserStatus.from_json(item)
                            if status.user_id in wanted:
                                found[status.user_id] = status
                    else:
                        self._buffered_messages.append(message)
                if found or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            if not found:
                raise IcwsProtocolError(
                    "No userStatusMessage arrived after subscribing", request=f"PUT {path}"
                )
            return found
        finally:
            self._session_call("DELETE", path, write=True)

    def subscribe_user_statuses(self, user_ids: Iterable[str]) -> None:
        """Watch presence (REF 4.2): an ``isDelta: false`` userStatusMessage, then deltas."""
        ids = id_list(user_ids, "user_ids")
        path = "/messaging/subscriptions/status/user-statuses"
        self._session_call("PUT", path, body={"userIds": ids}, write=True)

    def subscribe_sessions_users(self, user_ids: Iterable[str]) -> None:
        """Watch who has a live client (REF 4.3): sessionsMessage snapshot, then deltas."""
        ids = id_list(user_ids, "user_ids")
        path = "/messaging/subscriptions/session/sessions-users"
        self._session_call("PUT", path, body={"userIds": ids}, write=True)

    def open_events(self, read_timeout: float = 30.0) -> tuple[str, EventStream]:
        """(session id, the queue as server-sent events); needs messaging >= 2 (REF 5)."""
        conn, response = self._session.open_events(read_timeout)
        return conn.session_id, EventStream(response, "GET /icws/{sessionId}/messaging/messages")

    def poll_messages(self) -> list[dict[str, Any]]:
        """Short-poll ``messaging/messages`` (REF 5): the queued messages, oldest first."""
        messages, self._buffered_messages = self._buffered_messages, []
        return messages + self._fetch_messages()

    # -- internals ----------------------------------------------------------------------------

    def _session_call(self, method: str, template: str, **kw: Any) -> _http.Reply:
        """A session call; reads (``write=False``) follow the retry policy."""
        if kw.get("write"):
            return self._session.call(method, template, **kw)
        return self._with_read_retries(lambda: self._session.call(method, template, **kw))

    def _fetch_messages(self) -> list[dict[str, Any]]:
        reply = self._session_call("GET", "/messaging/messages")
        body = reply.body if reply.body is not None else []
        if not isinstance(body, list) or not all(isinstance(m, dict) for m in body):
            raise IcwsProtocolError("messaging/messages must answer a JSON array of objects")
        return body

    def _list(self, kind: str, select: str, parse: Any, where: str | None) -> list[Any]:
        """Page through a configuration list with ``Range: items=a-b`` (REF 4.1)."""
        results: list[Any] = []
        first = 0
        params = {"select": select, "rightsFilter": "view"}
        if where:
            params["where"] = where
        for _ in range(MAX_PAGES):
            reply = self._session_call(
                "GET",
                f"/configuration/{kind}",
                params=params,
                headers={"Range": f"items={first}-{first + PAGE_SIZE - 1}"},
            )
            items = field(reply.body, "items", list, kind)
            results.extend(parse(item) for item in items)
            total = content_range_total(reply.headers.get("Content-Range"))
            first += len(items)
            if not items or (total is not None and first >= total):
                return results
            if total is None and len(items) < PAGE_SIZE:
                return results
        raise IcwsProtocolError(f"configuration/{kind} did not end after {MAX_PAGES} pages")

    def _require_feature(self, feature_id: str, minimum: int, what: str) -> None:
        conn = self.connect()
        versions = {f.feature_id: f.version for f in conn.features}
        version = versions.get(feature_id)
        # Servers that do not report features on connect are given the benefit of the doubt.
        if conn.features and (version is None or version < minimum):
            raise IcwsUnsupportedFeature(
                f"{what} needs ICWS feature {feature_id} {minimum}; the server has "
                f"{feature_id} {version if version is not None else 'none'}"
            )

    def _with_read_retries(self, call: Any) -> Any:
        attempt = 0
        while True:
            try:
                return call()
            except IcwsError as exc:
                if not exc.transient or attempt >= self.read_retries:
                    raise
                delay = min(self.backoff_cap, self.backoff_base * 2**attempt)
                delay *= random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography
                log.info("retrying %s after %s (attempt %d)", exc.request, exc, attempt + 1)
                attempt += 1
                time.sleep(delay)


__all__ = ["IcwsClient"]


def _cids(value: Any, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ids, display names) of a list of ``configurationId`` objects; absent means none."""
    if value is None:
        return (), ()
    if not isinstance(value, list):
        raise IcwsProtocolError(f"configuration/users/{{id}}: '{name}' must be a list")
    ids, names = [], []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise IcwsProtocolError(f"configuration/users/{{id}}: '{name}' holds a non-id item")
        ids.append(item["id"])
        names.append(str(item.get("displayName") or item["id"]))
    return tuple(ids), tuple(names)
