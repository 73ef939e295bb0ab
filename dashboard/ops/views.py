"""Probes and metrics: no login (the orchestrator and Prometheus have no session)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboard.ops import metrics, services


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Readiness (database, broker, ICWS) is /readyz."""
    return JsonResponse({"status": "ok"})


@login_not_required
@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the broker and ICWS answer; 503 naming each check that failed."""
    report = services.readiness_check()
    return JsonResponse(report.as_json(), status=200 if report.ok else 503)


@login_not_required
@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics; 404 when METRICS_ENABLED is off, 401 without METRICS_TOKEN if set."""
    if not settings.METRICS_ENABLED:
        raise Http404("Metrics are disabled")
    if settings.METRICS_TOKEN and not _has_token(request, settings.METRICS_TOKEN):
        response = HttpResponse("Bearer token required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.metrics_text(), content_type=metrics.CONTENT_TYPE)


def _has_token(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8"), token.encode("utf-8")
    )
