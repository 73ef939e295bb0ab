"""A token request to the JSON API skips the middleware that serves browsers.

A script's ``Authorization: Token`` POST with no cookies has no session to load, no CSRF
cookie, no messages, no time zone cookie and no htmx headers; the sessions, CSRF,
authentication, login-required, htmx-session-end, messages, htmx, time zone, error page and
lockout middlewares had nothing to do for it, yet each ran (about a tenth of a token POST's
CPU in bench/api_post.py's profile, with the request's other layers).

``TokenApiMiddleware`` sits in ``MIDDLEWARE`` after the layers every request needs (request
id, security headers, the NUL guard, CSP). For a token request to ``/api/`` that carries no
``Cookie`` header at all, it runs ``settings.API_TOKEN_MIDDLEWARE`` (the later layers that
still matter: host validation and the frame header) and the view; everything else goes on down
``MIDDLEWARE`` as before. What stays the same:

- Authentication: the API's own ``TokenAuth``/``SessionAuth`` (``api.auth``), where roles and
  scope are read; the request starts as the anonymous user, as ``AuthenticationMiddleware``
  leaves a request without a session, so a wrong token still gets the API's 401 (or, on a
  POST, ninja's own CSRF refusal of the session fallback).
- CSRF: a request with a cookie (a browser's session) never takes this path; the API's views
  are CSRF-exempt for Django's middleware either way, and ``SessionAuth`` checks the token
  itself. A browser cannot send ``Authorization`` cross-site without a CORS preflight, which
  this site answers with no CORS headers.
- The time zone is the default one, as ``ViewerTimezoneMiddleware`` leaves it without a cookie.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.utils import timezone
from django.utils.module_loading import import_string

API_PREFIX = "/api/"
NAME = "dashboard.api.middleware.TokenApiMiddleware"


def is_token_request(request) -> bool:
    """``Authorization: Token ...`` to the API with no cookies (``TokenAuth``'s scheme test:
    the word before the first space, any case)."""
    meta = request.META
    return (
        not meta.get("HTTP_COOKIE")  # absent or empty
        and meta.get("HTTP_AUTHORIZATION", "")[:6].lower() == "token "
        and request.path_info.startswith(API_PREFIX)
    )


class TokenApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.token_chain = _token_chain(
            _checked(settings.MIDDLEWARE, settings.API_TOKEN_MIDDLEWARE)
        )

    def __call__(self, request):
        if not is_token_request(request):
            return self.get_response(request)
        request.user = AnonymousUser()  # TokenAuth replaces it with the token's user
        timezone.deactivate()
        return self.token_chain(request)


def _checked(middleware: list[str], kept: list[str]) -> list[str]:
    """``kept`` must be some of the layers after this one, in their order: the token path may
    leave layers out, never add or reorder them."""
    if NAME not in middleware:
        raise ImproperlyConfigured(f"API_TOKEN_MIDDLEWARE needs {NAME} in MIDDLEWARE")
    after = middleware[middleware.index(NAME) + 1 :]
    position = -1
    for path in kept:
        if path not in after or after.index(path) <= position:
            raise ImproperlyConfigured(
                f"API_TOKEN_MIDDLEWARE: {path} must be in MIDDLEWARE after {NAME}, in the same "
                "order as there"
            )
        position = after.index(path)
    return list(kept)


def _token_chain(paths: list[str]):
    """``paths`` around the view, built as Django's handler builds ``MIDDLEWARE`` (each layer
    turns its exceptions into responses; their ``process_view``/``process_exception`` hooks
    run around the view), on a handler of its own whose ``_get_response`` resolves the URL and
    calls the view."""
    handler = BaseHandler()
    handler._view_middleware = []
    handler._template_response_middleware = []
    handler._exception_middleware = []
    chain = convert_exception_to_response(handler._get_response)
    for path in reversed(paths):
        layer = import_string(path)(chain)
        if hasattr(layer, "process_view"):
            handler._view_middleware.insert(0, layer.process_view)
        if hasattr(layer, "process_template_response"):
            handler._template_response_middleware.append(layer.process_template_response)
        if hasattr(layer, "process_exception"):
            handler._exception_middleware.append(layer.process_exception)
        chain = convert_exception_to_response(layer)
    handler._middleware_chain = chain
    return chain
