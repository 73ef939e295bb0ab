"""The API's error body and its exception handlers, in one module every router may import.

Every error is ``{"detail": "...", "errors": {"field": "message"}}`` with a 4xx status: 400 for
bad input (including unknown fields), 401 without credentials, 403 for a role that may not, 404,
409 for a conflict (stale roster, an Idempotency-Key reused for another move). A refusal's
status is the one its class carries (``allocations.errors``), the same the board answers with.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from dashboard.allocations.errors import MoveRefused, refusal_status


def error_body(detail: str, errors: dict[str, str] | None = None) -> dict:
    return {"detail": detail, "errors": errors or {}}


def field_name(loc) -> str:
    # ninja's locations start with where the value came from: ("body", "payload", "agent_ids", 0)
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
        if parts and parts[0] == "payload":
            parts = parts[1:]
    return ".".join(parts) or "body"


def install_error_handlers(api: NinjaAPI) -> None:
    """Register the handlers on ``api`` (they answer through its renderer)."""

    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors: dict[str, str] = {}
        for error in exc.errors:
            field = field_name(error.get("loc", ()))
            kind = error.get("type")
            message = "unknown field" if kind == "extra_forbidden" else error.get("msg")
            errors.setdefault(field, str(message))
        detail = "The request is not valid: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
        return api.create_response(request, error_body(detail, errors), status=400)

    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = api.create_response(
            request,
            error_body(
                "Authentication required: send 'Authorization: Token <key>' or sign in "
                "(a session POST also needs the CSRF token)"
            ),
            status=401,
        )
        response["WWW-Authenticate"] = "Token"
        return response

    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return api.create_response(
            request, error_body(str(exc) or "Your role may not do this"), status=403
        )

    def refused(request: HttpRequest, exc: MoveRefused) -> HttpResponse:
        return api.create_response(
            request, error_body(exc.message, exc.fields), status=refusal_status(exc)
        )

    api.add_exception_handler(ValidationError, validation_error)
    api.add_exception_handler(AuthenticationError, unauthenticated)
    api.add_exception_handler(PermissionDenied, forbidden)
    api.add_exception_handler(MoveRefused, refused)
