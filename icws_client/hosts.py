"""Which ICWS host to talk to, and which alternates may be tried (REF 2.6).

* The **configured host** (from ``base_url``) is always allowed. Alternates come from the
  server: ``alternateHostList`` of the last 201 and of any 503 at connect.
* An alternate is used only if the operator listed it (``allowed_alternate_hosts``; the dashboard
  passes ``ICWS_ALTERNATE_HOSTS``), compared without case. An unlisted one is logged and refused:
  the connect request carries the password, and it never goes to a host nobody configured. By
  default nothing is listed, so the client stays on its configured host.
* A connect attempt tries the current host, then the configured host, the remembered alternates
  (allowed ones), the operator's list itself (so a process started while the primary is gone still
  finds the peer) and any a 503 names, each **once**, at most ``max_host_hops`` hops after the first
  host, with capped, jittered exponential backoff before each hop that follows a connection failure
  (a 503 names its alternates, so that hop is immediate). The host that accepts the session becomes
  the current one for every later call, until it fails in turn.
* Same scheme and port for every host (*choice*: the record's ``alternateHostList`` holds bare
  host names).
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator

from .exceptions import IcwsError, IcwsUnavailable

log = logging.getLogger("icws_client")

_HOST_NAME = re.compile(r"^[A-Za-z0-9._:\-\[\]]+$")


class Hosts:
    def __init__(
        self,
        scheme: str,
        host: str,
        port: int,
        *,
        allowed_alternate_hosts: Iterable[str] = (),
        max_host_hops: int = 5,
        backoff_base: float = 0.25,
        backoff_cap: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if isinstance(allowed_alternate_hosts, str):
            raise ValueError("allowed_alternate_hosts must be a list of host names, not a string")
        self.scheme = scheme
        self.port = port
        self.configured = host
        self.current = host
        self.listed = tuple(h.strip() for h in allowed_alternate_hosts if h.strip())
        self.allowed = frozenset(h.lower() for h in self.listed)
        self.max_host_hops = max_host_hops
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self.known_alternates: tuple[str, ...] = ()

    def url(self, host: str) -> str:
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return f"{self.scheme}://{shown}:{self.port}"

    def allows(self, host: str) -> bool:
        if host.lower() == self.configured.lower():
            return True
        if not host or _HOST_NAME.match(host) is None:
            log.warning("ICWS named an alternate host that is not a host name; refused")
            return False
        if host.lower() not in self.allowed:
            log.warning(
                "ICWS named alternate host %r, which is not in the allowed alternate hosts "
                "(ICWS_ALTERNATE_HOSTS); refused, no credentials sent to it",
                host,
            )
            return False
        return True

    def connected(self, host: str, alternates: Iterable[str]) -> None:
        if host != self.current:
            log.warning("ICWS switched to host %s", host)
        self.current = host
        self.known_alternates = tuple(alternates)

    def connect_attempt(self) -> ConnectAttempt:
        return ConnectAttempt(self)

    def backoff(self, hop: int) -> None:
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(0, hop - 1))
        self._sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not cryptography


class ConnectAttempt:
    """Iterate the hosts one connect may try; report each failure; ``give_up`` for the error."""

    def __init__(self, hosts: Hosts) -> None:
        self._hosts = hosts
        self._queue: list[str] = []
        self._tried: list[str] = []
        self._last: IcwsError | None = None
        self._backoff_next = False
        self._add([hosts.current, hosts.configured])
        self._add(hosts.known_alternates, check=True)
        self._add(hosts.listed)  # so a fresh process finds the peer while the primary is gone

    def _add(self, hosts: Iterable[str], *, check: bool = False) -> None:
        seen = {h.lower() for h in self._queue + self._tried}
        for host in hosts:
            if host.lower() in seen or (check and not self._hosts.allows(host)):
                continue
            seen.add(host.lower())
            self._queue.append(host)

    def __iter__(self) -> Iterator[str]:
        while self._queue and len(self._tried) <= self._hosts.max_host_hops:
            host = self._queue.pop(0)
            if self._backoff_next:
                self._hosts.backoff(len(self._tried))
            self._backoff_next = False
            self._tried.append(host)
            yield host

    def failed(self, host: str, error: IcwsError) -> None:
        """No connection to ``host``: go on to the next one after a pause."""
        log.warning("ICWS host %s unreachable: %s", host, error)
        self._last = error
        self._backoff_next = True

    def unavailable(self, host: str, error: IcwsUnavailable) -> None:
        """``host`` answered 503: try the alternates it names (the allowed ones) at once."""
        self._last = error
        self._add(error.alternate_hosts, check=True)

    def give_up(self) -> IcwsError:
        error = self._last
        if error is None:  # nothing allowed to try: cannot happen, the configured host always is
            return IcwsUnavailable("No ICWS host to connect to")
        if self._queue and isinstance(error, IcwsUnavailable):
            error.message = f"{error.message} (gave up after {self._hosts.max_host_hops} hops)"
        return error
