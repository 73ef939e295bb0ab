"""Request ids, access log lines, the Content-Security-Policy header, the viewer's time zone and
the product's error pages in debug."""

from __future__ import annotations

import logging
import re
import time
import uuid
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views import defaults

from dashboard.core.logcontext import bind_request_id

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Probes, scrapes and static files would drown the access log; they go at DEBUG.
_VALID_ZONE = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

access_log = logging.getLogger("dashboard.access")


def request_id_from(header: str | None) -> str:
    """The caller's ``X-Request-ID`` if it is 1-64 of ``[A-Za-z0-9._-]``, else a new one."""
    if header and _VALID_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives every request an id: ``request.request_id``, the response header, every log line.

    First in MIDDLEWARE, so redirects and errors from later middleware carry the id too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.monotonic()
        with bind_request_id(request_id):
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            access_log.log(
                logging.DEBUG if _is_quiet(request.path) else logging.INFO,
                "%s %s -> %s in %.1f ms",
                request.method,
                request.path,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
        return response


def _is_quiet(path: str) -> bool:
    return path in _QUIET_PATHS or path.startswith(settings.STATIC_URL)


class ContentSecurityPolicyMiddleware:
    """Sets ``settings.CONTENT_SECURITY_POLICY`` on every response that has none of its own.

    A fixed policy with no inline script or style, so no nonces and no django-csp.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


TIMEZONE_COOKIE = "tz"


class ViewerTimezoneMiddleware:
    """Shows times in the viewer's timezone: the IANA name ``dashboard.js`` stores in a cookie.

    An unknown or malformed name falls back to ``TIME_ZONE``; it never raises.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = _zone_from(request.COOKIES.get(TIMEZONE_COOKIE, ""))
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _zone_from(name: str) -> zoneinfo.ZoneInfo | None:
    if not name or len(name) > 64 or not _VALID_ZONE.match(name):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class ProductErrorPagesMiddleware:
    """The product's own 404 and 500 pages in debug too (``make run`` is in debug).

    Django's debug 404 lists every URL pattern and its debug 500 shows settings and locals: in
    debug they replace ``404.html`` and ``500.html``. Outside debug Django already renders ours
    (403.html is used in debug as well). The 500's traceback still goes to the log.
    The JSON API answers its own errors and is left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None  # no URL matched at all
            and not _is_api(request)
        ):
            return defaults.page_not_found(request, Http404())
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not settings.DEBUG or _is_api(request):
            return None
        if isinstance(exception, Http404):
            return defaults.page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return None  # Django renders 403.html in debug too
        logging.getLogger("django.request").error(
            "Internal Server Error: %s", request.path, exc_info=exception
        )
        return defaults.server_error(request)


def _is_api(request: HttpRequest) -> bool:
    # path_info, as TokenApiMiddleware tests it: under a script prefix request.path is
    # "/prefix/api/...", which this test would miss.
    return request.path_info.startswith("/api/")
