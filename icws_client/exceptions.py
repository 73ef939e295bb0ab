"""Typed ICWS errors: one class per documented HTTP status, mapped in one function.

Every error carries what ICWS said (``status``, ``error_id``, ``error_code``, ``message``, the raw
``body``) and whether retrying the same request later could succeed (``transient``). Errors pickle
with all their fields, because they cross Celery's result backend and task retries.
"""

from __future__ import annotations

from typing import Any


class IcwsError(Exception):
    """Base of every error the client raises."""

    transient = False
    default_message = "ICWS request failed"

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        error_id: str | None = None,
        error_code: int | None = None,
        body: Any = None,
        request: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.status = status
        self.error_id = error_id
        self.error_code = error_code
        self.body = body
        # "POST /icws/{sessionId}/dialer/allocate-agents": which call failed, never the session id.
        self.request = request
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields do not survive the default Exception pickling.
        return (_rebuild, (type(self), self.message, self._fields()))

    def _fields(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "error_id": self.error_id,
            "error_code": self.error_code,
            "body": self.body,
            "request": self.request,
        }

    def __str__(self) -> str:
        parts = [self.message]
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.error_id:
            details.append(self.error_id)
        if self.error_code is not None:
            details.append(f"errorCode {self.error_code}")
        if self.request:
            details.append(self.request)
        if details:
            parts.append(f"({', '.join(details)})")
        return " ".join(parts)

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self.message!r}, status={self.status!r}, error_id={self.error_id!r})"


def _rebuild(cls: type[IcwsError], message: str, fields: dict[str, Any]) -> IcwsError:
    return cls(message, **fields)


class IcwsBadRequest(IcwsError):
    """400: the request was invalid (bad body, unknown campaign, bad credentials at connect)."""

    default_message = "ICWS rejected the request as invalid"


class IcwsUnauthorized(IcwsError):
    """401: the session id, CSRF token or cookie is missing, invalid or expired."""

    default_message = "The ICWS session is missing, invalid or has expired"


class IcwsForbidden(IcwsError):
    """403: a licence or right is missing (e.g. no Dialer Add-on licence)."""

    default_message = "ICWS refused the request (licence or rights)"


class IcwsNotFound(IcwsError):
    """404: the named user, object or resource does not exist."""

    default_message = "ICWS could not find the requested resource"


class IcwsGone(IcwsError):
    """410: the resource is no longer available on this server."""

    default_message = "The ICWS resource is gone"


class IcwsServerError(IcwsError):
    """500: ICWS failed while processing the request; may succeed later."""

    transient = True
    default_message = "ICWS reported an internal server error"


class IcwsUnavailable(IcwsError):
    """503: the server is not accepting requests; ``alternate_hosts`` lists where to go instead."""

    transient = True
    default_message = "The ICWS server is unavailable"

    def __init__(
        self, message: str | None = None, *, alternate_hosts: tuple[str, ...] = (), **kw: Any
    ):
        self.alternate_hosts = tuple(alternate_hosts)
        super().__init__(message, **kw)

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "alternate_hosts": self.alternate_hosts}


class IcwsConnectionError(IcwsError):
    """No usable HTTP answer: connection refused, reset, DNS failure, TLS failure, timeout.

    ``sent`` is True when the request had gone out whole before the connection failed (a reset
    while waiting for the answer), so the server may have acted on it; False means it cannot have.
    """

    transient = True
    default_message = "Could not reach the ICWS server"

    def __init__(self, message: str | None = None, *, sent: bool = False, **kw: Any) -> None:
        self.sent = sent
        super().__init__(message, **kw)

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "sent": self.sent}


class IcwsTimeout(IcwsConnectionError):
    """The request's deadline passed after connecting: the outcome may be unknown.

    ``status_received`` False: no status line arrived, so the server may or may not have acted on
    the request (``sent`` False means it never went out whole, so it cannot have). True: the
    status line (``status``) arrived and only the rest of the answer was late; writes take that
    status as their answer and do not raise this at all (``session.py``).
    """

    default_message = "The ICWS server did not answer in time"

    def __init__(
        self,
        message: str | None = None,
        *,
        sent: bool = True,
        status_received: bool = False,
        **kw: Any,
    ) -> None:
        self.status_received = status_received
        super().__init__(message, sent=sent, **kw)

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "status_received": self.status_received}


class IcwsProtocolError(IcwsError):
    """The server answered with a status or body the ICWS documents do not allow."""

    default_message = "Unexpected response from the ICWS server"


class IcwsRequestRefused(IcwsError, ValueError):
    """The client refused to send a request that ICWS would reject; nothing was sent."""

    default_message = "Request refused before sending"


class IcwsUnsupportedFeature(IcwsError):
    """The server's feature version is too old (e.g. allocate-agents needs dialer 7)."""

    default_message = "The ICWS server does not support this feature version"


_STATUS_CLASSES: dict[int, type[IcwsError]] = {
    400: IcwsBadRequest,
    401: IcwsUnauthorized,
    403: IcwsForbidden,
    404: IcwsNotFound,
    410: IcwsGone,
    500: IcwsServerError,
    503: IcwsUnavailable,
}


def error_for_status(status: int, body: Any = None, *, request: str | None = None) -> IcwsError:
    """Build the typed error for an ICWS error response.

    ``body`` is the decoded JSON (an ICWS ``error`` object: ``errorId``, ``message``, ``errorCode``)
    or anything else the server sent; missing or malformed fields fall back to the class default.
    Statuses ICWS does not document map to ``IcwsServerError`` for 5xx and ``IcwsProtocolError``
    otherwise.
    """
    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        cls = IcwsServerError if 500 <= status < 600 else IcwsProtocolError
    fields = body if isinstance(body, dict) else {}
    message = fields.get("message") if isinstance(fields.get("message"), str) else None
    error_id = fields.get("errorId") if isinstance(fields.get("errorId"), str) else None
    error_code = fields.get("errorCode")
    if isinstance(error_code, bool) or not isinstance(error_code, int):
        error_code = None
    if message is None and cls is IcwsProtocolError:
        message = f"Unexpected HTTP {status} from the ICWS server"
    kwargs: dict[str, Any] = {}
    if cls is IcwsUnavailable:
        hosts = fields.get("alternateHostList")
        if isinstance(hosts, list):
            kwargs["alternate_hosts"] = tuple(h for h in hosts if isinstance(h, str) and h)
    return cls(
        message,
        status=status,
        error_id=error_id,
        error_code=error_code,
        body=body,
        request=request,
        **kwargs,
    )
