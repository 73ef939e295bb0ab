"""The JSON API: one NinjaAPI and its routers (OpenAPI at /api/openapi.json).

The error body and the exception handlers live in ``dashboard.api.errors``.
"""

from __future__ import annotations

from ninja import NinjaAPI

from dashboard.api.auth import API_AUTH, schema_needs_auth
from dashboard.api.errors import install_error_handlers

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
    docs_decorator=schema_needs_auth,  # /api/openapi.json for signed-in users and tokens only
)

install_error_handlers(api)


def _register_routers() -> None:
    from dashboard.api import allocations, approvals, audit, directory, plans

    api.add_router("/allocations", allocations.router, tags=["allocations"])
    api.add_router("/", directory.router, tags=["directory"])
    api.add_router("/audit", audit.router, tags=["audit"])
    api.add_router("/plans", plans.router, tags=["plans"])
    api.add_router("/approvals", approvals.router, tags=["approvals"])
    approvals.install_pending_handler(api)


_register_routers()
