"""ICWS error bodies, raised by endpoint code as ``ErrorAnswer`` and rendered by the server.

``ErrorAnswer`` is an answer the simulator sends, not an error it met; it is unrelated to the
client's ``icws_client.IcwsError``, which is what a client makes of such an answer.

Shape (REF 6): ``{"errorId": str, "message": str, "errorCode": int?}``; the two typed property
errors add ``__type`` and ``propertyName``.
"""

from __future__ import annotations

from typing import Any

MISSING_PROPERTY_TYPE = "urn:inin.com:common:missingPropertyError"
INVALID_PROPERTY_TYPE = "urn:inin.com:common:invalidPropertyError"

GENERIC_ERROR_CODE = -2147467259  # E_FAIL, REF 6
AUTH_FAILURE_CODE = -2147221503  # bad user/password, REF 6
WWW_AUTHENTICATE = 'ICWS realm="ICWS" location="/ICWS/connection"'

LICENCE_MESSAGE = (
    "Neither the agent nor the station the agent is logged in to has a Dialer Add-on License "
    "available."
)

# The record's 410 text (REF 10: "resource removed", no session meaning).
GONE_MESSAGE = "This resource has been deprecated and removed from the API."
# The record's 401 texts (REF 10), which carry no errorId.
NO_SESSION_MESSAGE = "This request requires a session ID!"
NO_TOKEN_MESSAGE = "An authentication token was expected in the request, but not found."

# errorId used when a status is produced without a more specific one (faults, send_error).
# "" = no errorId in the body: the record shows none for 401, 410 and the dialer 403 (REF 10).
DEFAULT_ERROR_IDS = {
    400: "error.request.invalidRepresentation",
    401: "",
    403: "error.request.accessDenied",
    404: "error.request.notFound",
    405: "error.request.accessDenied.httpMethodNotAllowed",
    408: "error.request.timeout",
    409: "error.request.conflict",
    410: "",
    411: "error.request.lengthRequired",
    413: "error.request.tooLarge",
    414: "error.request.uriTooLong",
    415: "error.request.unsupportedMediaType",
    416: "error.request.rangeNotSatisfiable",
    429: "error.request.tooManyRequests",
    431: "error.request.headersTooLarge",
    500: "error.server.internal",
    501: "error.request.unsupported",
    502: "error.server.badGateway",
    503: "error.server.unavailable",
    504: "error.server.timeout",
}


class ErrorAnswer(Exception):
    """An HTTP error answer: status, ICWS error body, extra headers."""

    def __init__(
        self,
        status: int,
        error_id: str | None,
        message: str,
        *,
        error_code: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        if error_id is None:
            error_id = DEFAULT_ERROR_IDS.get(status, "error.request.failed")
        self.error_id = error_id  # "" = the body has no errorId
        self.message = message
        self.error_code = error_code
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})
        if status == 401:
            self.headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
        if status == 500 and error_code is None:
            self.error_code = GENERIC_ERROR_CODE

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if "__type" in self.extra:
            body["__type"] = self.extra["__type"]
        if self.error_id:
            body["errorId"] = self.error_id
        body["message"] = self.message
        if self.error_code is not None:
            body["errorCode"] = self.error_code
        body.update((k, v) for k, v in self.extra.items() if k != "__type")
        return body


def bad_request(message: str, error_id: str = "error.request.invalidRepresentation") -> ErrorAnswer:
    return ErrorAnswer(400, error_id, message)


def missing_property(name: str, message: str | None = None) -> ErrorAnswer:
    return ErrorAnswer(
        400,
        "error.request.missingProperty",
        message or f"The required property '{name}' is missing.",
        extra={"__type": MISSING_PROPERTY_TYPE, "propertyName": name},
    )


def invalid_property(name: str, message: str) -> ErrorAnswer:
    return ErrorAnswer(
        400,
        "error.request.invalidProperty",
        message,
        extra={"__type": INVALID_PROPERTY_TYPE, "propertyName": name},
    )


def not_found(message: str) -> ErrorAnswer:
    return ErrorAnswer(404, "error.request.notFound", message)


def unauthorized(error_code: int) -> ErrorAnswer:
    """The recorded 401: errorCode 1 (no valid session) or 2 (token/cookie), no errorId."""
    return ErrorAnswer(
        401, "", NO_SESSION_MESSAGE if error_code == 1 else NO_TOKEN_MESSAGE, error_code=error_code
    )


def no_licence() -> ErrorAnswer:
    return ErrorAnswer(403, "", LICENCE_MESSAGE)  # no errorId on record for this 403


def fault_error(
    status: int, error_id: str | None = None, message: str | None = None
) -> ErrorAnswer:
    """The answer to an injected fault; a 401 looks like an unknown session (errorCode 1)."""
    if status == 401 and not (error_id or message):
        return unauthorized(1)
    if status == 410 and not (error_id or message):
        return ErrorAnswer(410, "", GONE_MESSAGE)
    text = message or f"Simulated fault: HTTP {status}."
    if status == 401:
        return ErrorAnswer(401, error_id, text, error_code=1)
    return ErrorAnswer(status, error_id, text)
