"""The ``on_call`` hook: one ``IcwsCall`` per HTTP request the client makes.

``IcwsClient(..., on_call=fn)`` calls ``fn(call)`` after every HTTP request, whatever its outcome:
connect (``POST /icws/connection``), logout, feature reads and every session call, each retry and
reconnect counted separately. It runs on the calling thread, after the answer (or the failure) and
before the client acts on it, so keep it quick; an exception in it is logged and ignored, never
raised into the call. The dashboard counts calls for ``/metrics`` with it
(``dashboard/ops/icws_calls.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# IcwsCall.failure values
TIMEOUT = "timeout"  # the deadline passed (``status`` is set if the status line came first)
NO_CONNECTION = "no-connection"  # refused, reset, DNS, TLS, connect timeout: no answer at all
PROTOCOL = "protocol"  # an answer, but not one ICWS may give (bad JSON, too large)


@dataclass(frozen=True, slots=True)
class IcwsCall:
    method: str  # "POST"
    path: str  # a template, never an id: "/icws/{sessionId}/status/user-statuses/{userId}"
    status: int | None  # the HTTP status, None when no status line arrived
    failure: str | None  # None for an answer, else TIMEOUT, NO_CONNECTION or PROTOCOL
    seconds: float  # wall-clock duration of this one request
    host: str  # the host it went to (the configured one or an alternate)

    @property
    def outcome(self) -> str:
        """The status as text, or the failure kind: "202", "timeout", "no-connection"."""
        if self.failure is not None:
            return self.failure
        return str(self.status)


OnCall = Callable[[IcwsCall], None]
