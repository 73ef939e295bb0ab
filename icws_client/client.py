"""``IcwsClient``: a small, strict client for the ICWS calls the dashboard needs.

Section numbers (``REF 2.1``) point into ``shared/icws/REFERENCE.md``.

Session handling
    ``connect()`` posts the typed ``icAuthConnectionRequestSettings`` body with ``Accept-Language``
    and keeps the session id, CSRF token and session cookie of the 201 answer. Every session call
    sends all three (REF 2.3). It connects lazily on the first call. On a **401 or 410** the client
    reconnects once and repeats the call once; a second 401/410 is raised (REF 6: a 401 means the
    request was not processed, so repeating it cannot apply a move twice).

Alternate hosts
    A **503** at connect lists ``alternateHostList``; the client tries those hosts with the same
    scheme and port, at most ``max_host_hops`` hops, and remembers the host that answered (REF 2.6).
    The last connection's alternate hosts are also tried when the current host is unreachable at
    reconnect, which is what a switchover looks like from outside.

Retry policy (documented so that nobody stacks another one on top)
    * Reads (configuration lists, features, statuses) are idempotent: a 500, 503 or transport error
      (refused, reset, timeout) is retried up to ``read_retries`` times with capped, jittered
      exponential backoff (``backoff_base`` doubling up to ``backoff_cap`` seconds).
    * Writes (``allocate_agents``, ``ready_for_calls``) are **never** retried by the client beyond
      the 401/410 reconnect: a timed-out POST may have been applied. The caller (the Celery job)
      owns their retry policy and decides with its own bookkeeping.
    * 400, 403 and 404 are never retried anywhere: repeating them cannot succeed.

Timeouts
    Every request carries ``timeout`` seconds for connecting and for each read.

Local refusals
    ``allocate_agents`` with no agents, or with neither campaigns in nor out, raises
    ``IcwsRequestRefused`` and sends nothing.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests

from . import _http
from .exceptions import (
    IcwsConnectionError,
    IcwsError,
    IcwsProtocolError,
    IcwsRequestRefused,
    IcwsTimeout,
    IcwsUnavailable,
    IcwsUnsupportedFeature,
    error_for_status,
)
from .models import (
    Campaign,
    Connection,
    Feature,
    StatusMessage,
    User,
    UserStatus,
    Workgroup,
)

log = logging.getLogger("icws_client")

T = TypeVar("T")

CONNECT_TYPE = "urn:inin.com:connection:icAuthConnectionRequestSettings"
USER_STATUS_MESSAGE = "urn:inin.com:status:userStatusMessage"
ALLOCATE_AGENTS_FEATURE = ("dialer", 7)  # REF 3.2
READY_FOR_CALLS_CAMPAIGNS_FEATURE = ("dialer", 4)
PAGE_SIZE = 200  # REF 4.1: at most 200 items per response when `select` is given
MAX_PAGES = 10_000  # a server that never reports the end cannot keep us paging forever
_CONTENT_RANGE = re.compile(r"^\s*items\s+(\d+)-(\d+)/(\d+|\*)\s*$")
_HOST_NAME = re.compile(r"^[A-Za-z0-9._:\-\[\]]+$")


class IcwsClient:
    """One ICWS session for one user, reused across calls; safe to share between threads."""

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
        read_retries: int = 2,
        backoff_base: float = 0.25,
        backoff_cap: float = 2.0,
        http_session: requests.Session | None = None,
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
        self._scheme = parts.scheme
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._host = parts.hostname
        self._user_id = user_id
        self._password = password
        self.application_name = application_name
        self.language = language
        self.timeout = float(timeout)
        self.max_host_hops = max_host_hops
        self.read_retries = read_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._http = http_session or _http.new_session()
        self._owns_http = http_session is None
        self._lock = threading.RLock()
        self._conn: Connection | None = None
        self._cookie = ""
        self._known_alternates: tuple[str, ...] = ()
        self._buffered_messages: list[dict[str, Any]] = []

    def __repr__(self) -> str:  # never shows the password
        return f"IcwsClient({self.base_url!r}, user_id={self._user_id!r})"

    # -- connection ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The host in use now: the configured one, or the alternate that accepted us."""
        return self._url_for(self._host)

    @property
    def connection(self) -> Connection | None:
        return self._conn

    def __enter__(self) -> IcwsClient:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> Connection:
        """Open a session (REF 2.1), following 503 alternate hosts (REF 2.6). Idempotent."""
        with self._lock:
            if self._conn is None:
                self._conn = self._open_session()
            return self._conn

    def close(self) -> None:
        """Log out (``DELETE /icws/{sessionId}/connection``). Safe to call twice.

        An expired or already-closed session counts as closed; a transport error is logged and the
        local session forgotten all the same, since the server expires idle sessions anyway.
        """
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    self._send_session(conn, "DELETE", "/connection")
                except IcwsError as exc:
                    log.info("ICWS logout did not complete: %s", exc)
            if self._owns_http:
                self._http.close()
                self._http = _http.new_session()

    def feature_version(self, feature_id: str) -> int | None:
        """Version of ``feature_id`` on the server, or None if it lacks the feature (REF 2.5)."""
        for feature in self.features():
            if feature.feature_id == feature_id:
                return feature.version
        return None

    def features(self) -> list[Feature]:
        """``GET /icws/connection/features``; needs no session."""
        what = "GET /icws/connection/features"

        def once() -> list[Feature]:
            reply = _http.send(
                self._http,
                "GET",
                f"{self.base_url}/icws/connection/features",
                timeout=self.timeout,
                what=what,
                headers={"Accept-Language": self.language},
            )
            if reply.status != 200:
                raise error_for_status(reply.status, reply.body, request=what)
            items = _field(reply.body, "featureInfoList", list, what)
            return [Feature.from_json(item) for item in items]

        return self._with_read_retries(once)

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
        agents = _id_list(agent_ids, "agent_ids")
        ins = _id_list(campaign_ids_in, "campaign_ids_in")
        outs = _id_list(campaign_ids_out, "campaign_ids_out")
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
            ids = _id_list(campaign_ids, "campaign_ids")
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

    def list_status_messages(self) -> list[StatusMessage]:
        """The statuses users can be in (``status/status-messages``, REF 4.2)."""
        reply = self._session_call("GET", "/status/status-messages")
        items = _field(reply.body, "statusMessageList", list, "status-messages")
        return [StatusMessage.from_json(item) for item in items]

    def get_user_status(self, user_id: str) -> UserStatus:
        """One user's presence (``status/user-statuses/{userId}``)."""
        reply = self._session_call("GET", f"/status/user-statuses/{quote(user_id, safe='')}")
        return UserStatus.from_json(reply.body)

    def get_user_statuses(self, user_ids: Iterable[str]) -> dict[str, UserStatus]:
        """Presence of many users in one round: subscribe, read the snapshot, unsubscribe.

        ICWS has no bulk status GET; the ``user-statuses`` subscription answers with a full
        (``isDelta: false``) ``userStatusMessage`` (REF 4.2, 5). Other messages that arrive
        meanwhile are kept for ``poll_messages``.
        """
        ids = _id_list(user_ids, "user_ids")
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
                        statuses = _field(message, "userStatusList", list, "userStatusMessage")
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

    def poll_messages(self) -> list[dict[str, Any]]:
        """Short-poll ``messaging/messages`` (REF 5): the queued messages, oldest first."""
        messages, self._buffered_messages = self._buffered_messages, []
        return messages + self._fetch_messages()

    # -- internals ----------------------------------------------------------------------------

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
            items = _field(reply.body, "items", list, kind)
            results.extend(parse(item) for item in items)
            total = _content_range_total(reply.headers.get("Content-Range"))
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

    def _session_call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        write: bool = False,
    ) -> _http.Reply:
        """A session-scoped call with the 401/410 reconnect and, for reads, the retry policy."""

        def once() -> _http.Reply:
            conn = self.connect()
            try:
                return self._send_session(conn, method, path, params, headers, body)
            except IcwsError as exc:
                if exc.status not in (401, 410):
                    raise
                log.info("ICWS answered %s to %s %s; reconnecting once", exc.status, method, path)
                self._forget(conn)
                return self._send_session(self.connect(), method, path, params, headers, body)

        return once() if write else self._with_read_retries(once)

    def _send_session(
        self,
        conn: Connection,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> _http.Reply:
        what = f"{method} /icws/{{sessionId}}{path}"
        all_headers = {
            "Accept-Language": self.language,
            "ININ-ICWS-CSRF-Token": conn.csrf_token,
            "Cookie": self._cookie,
        }
        all_headers.update(headers or {})
        started = time.monotonic()
        try:
            reply = _http.send(
                self._http,
                method,
                f"{self.base_url}/icws/{quote(conn.session_id, safe='')}{path}",
                timeout=self.timeout,
                what=what,
                headers=all_headers,
                params=params,
                body=body,
            )
        except (IcwsTimeout, IcwsConnectionError) as exc:
            # Same line shape as an answer, so call counters see calls that got none.
            no_answer = "timeout" if isinstance(exc, IcwsTimeout) else "no-connection"
            log.debug("%s -> %s in %.1f ms", what, no_answer, (time.monotonic() - started) * 1000)
            raise
        log.debug("%s -> %s in %.1f ms", what, reply.status, (time.monotonic() - started) * 1000)
        if 200 <= reply.status < 300:
            return reply
        raise error_for_status(reply.status, reply.body, request=what)

    def _forget(self, conn: Connection) -> None:
        """Drop ``conn`` unless another thread already replaced it (one reconnect, not two)."""
        with self._lock:
            if self._conn is conn:
                self._conn = None

    def _open_session(self) -> Connection:
        what = "POST /icws/connection"
        body = {
            "__type": CONNECT_TYPE,
            "applicationName": self.application_name,
            "userID": self._user_id,
            "password": self._password,
        }
        candidates = [self._host, *(h for h in self._known_alternates if h != self._host)]
        tried: list[str] = []
        last_error: IcwsError | None = None
        while candidates and len(tried) <= self.max_host_hops:
            host = candidates.pop(0)
            if host in tried:
                continue
            tried.append(host)
            try:
                reply = _http.send(
                    self._http,
                    "POST",
                    f"{self._url_for(host)}/icws/connection",
                    timeout=self.timeout,
                    what=what,
                    headers={"Accept-Language": self.language},
                    params={"include": "features,version"},
                    body=body,
                )
            except IcwsConnectionError as exc:
                last_error = exc
                continue
            if reply.status == 201:
                conn = Connection.from_json(reply.body)
                self._cookie = "; ".join(f"{k}={v}" for k, v in reply.cookies.items())
                if host != self._host:
                    log.warning("ICWS switched to alternate host %s", host)
                self._host = host
                self._known_alternates = conn.alternate_hosts
                return conn
            error = error_for_status(reply.status, reply.body, request=what)
            if not isinstance(error, IcwsUnavailable):
                raise error
            last_error = error
            candidates.extend(h for h in error.alternate_hosts if _valid_host(h))
        assert last_error is not None
        if isinstance(last_error, IcwsUnavailable) and len(tried) > self.max_host_hops:
            last_error.message = (
                f"{last_error.message} (gave up after {self.max_host_hops} alternate hosts)"
            )
        raise last_error

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

    def _url_for(self, host: str) -> str:
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return f"{self._scheme}://{shown}:{self._port}"


def _valid_host(host: str) -> bool:
    return bool(host) and _HOST_NAME.match(host) is not None


def _id_list(ids: Iterable[str] | None, name: str) -> list[str]:
    """Validate a list of ids for a request body; a bare string is a mistake, not a list."""
    if ids is None:
        return []
    if isinstance(ids, str | bytes):
        raise IcwsRequestRefused(f"{name} must be a list of ids, not a single string")
    result: list[str] = []
    for value in ids:
        if not isinstance(value, str) or not value.strip():
            raise IcwsRequestRefused(f"{name} must contain non-empty strings, got {value!r}")
        result.append(value)
    duplicates = sorted(v for v, n in Counter(result).items() if n > 1)
    if duplicates:
        raise IcwsRequestRefused(f"{name} repeats ids: {', '.join(duplicates)}")
    return result


def _field(body: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get(key), kind):
        raise IcwsProtocolError(f"{where}: response lacks '{key}' ({kind.__name__})")
    return body[key]


def _content_range_total(header: str | None) -> int | None:
    if not header:
        return None
    match = _CONTENT_RANGE.match(header)
    if not match or match.group(3) == "*":
        return None
    return int(match.group(3))


__all__ = ["IcwsClient"]
