"""The JSON API: one NinjaAPI, its error format, and its routers (OpenAPI at /api/openapi.json).

Every error is ``{"detail": "...", "errors": {"field": "message"}}`` with a 4xx status: 400 for
bad input (including unknown fields), 401 without credentials, 403 for a role that may not, 404,
409 for a conflict (stale roster, an Idempotency-Key reused for another move).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from dashboard.allocations.services import MoveRefused
from dashboard.api.auth import API_AUTH

api = NinjaAPI(
    title="CIC Supervisor Dashboard API",
    version="1",
    description=(
        "Move dialer agents between campaigns as background jobs, read the directory and the "
        "audit log. Authenticate with `Authorization: Token <key>` (`manage.py api_token "
        "USERNAME` prints one) or a signed-in session (then send the CSRF token on POST)."
    ),
    auth=API_AUTH,
    urls_namespace="api",
    # The interactive docs page loads Swagger UI from a CDN; the CSP and our no-CDN rule forbid it.
    docs_url=None,
)

REFUSAL_STATUS = {"invalid": 400, "forbidden": 403, "conflict": 409, "not_found": 404}


def error_body(detail: str, errors: dict[str, str] | None = None) -> dict:
    return {"detail": detail, "errors": errors or {}}


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, str] = {}
    for error in exc.errors:
        field = _field_name(error.get("loc", ()))
        message = "unknown field" if error.get("type") == "extra_forbidden" else error.get("msg")
        errors.setdefault(field, str(message))
    detail = "The request is not valid: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
    return api.create_response(request, error_body(detail, errors), status=400)


def _field_name(loc) -> str:
    # ninja's locations start with where the value came from: ("body", "payload", "agent_ids", 0)
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
        if parts and parts[0] == "payload":
            parts = parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
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


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, error_body(str(exc) or "Your role may not do this"), status=403
    )


@api.exception_handler(MoveRefused)
def _refused(request: HttpRequest, exc: MoveRefused) -> HttpResponse:
    return api.create_response(
        request, error_body(exc.message, exc.fields), status=REFUSAL_STATUS.get(exc.code, 400)
    )


def _register_routers() -> None:
    from dashboard.api import allocations, audit, directory

    api.add_router("/allocations", allocations.router, tags=["allocations"])
    api.add_router("/", directory.router, tags=["directory"])
    api.add_router("/audit", audit.router, tags=["audit"])


_register_routers()
