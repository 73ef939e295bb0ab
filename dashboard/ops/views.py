"""Probes and metrics: no login (the orchestrator and Prometheus have no session)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboard.ops import metrics, readiness_cache


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
    """200 when the database, the broker and ICWS answer, else 503; the checks and what failed
    only for a caller that may read /metrics (the orchestrator needs the status alone)."""
    report = readiness_cache.readiness()  # a shared background probe: see its docstring
    return JsonResponse(
        report.as_json(detail=may_read_ops_detail(request)), status=200 if report.ok else 503
    )


@login_not_required
@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics; 404 when METRICS_ENABLED is off, 401 without METRICS_TOKEN if set,
    403 outside debug when no METRICS_TOKEN is set (never open to the whole network)."""
    if not settings.METRICS_ENABLED:
        raise Http404("Metrics are disabled")
    if not settings.METRICS_TOKEN and not settings.DEBUG:
        return HttpResponse(
            "Metrics need METRICS_TOKEN outside debug mode\n", status=403, content_type="text/plain"
        )
    if not may_read_ops_detail(request):
        response = HttpResponse("Bearer token required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.metrics_text(), content_type=metrics.CONTENT_TYPE)


def may_read_ops_detail(request: HttpRequest) -> bool:
    """The one rule for /metrics and the detail of /readyz: the caller sends
    ``Authorization: Bearer <METRICS_TOKEN>``; with no token set, only in debug (``make run``,
    loopback only)."""
    token = settings.METRICS_TOKEN
    if not token:
        return settings.DEBUG
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8"), token.encode("utf-8")
    )
