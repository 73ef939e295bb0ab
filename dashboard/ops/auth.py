"""Login throttling (django-axes) glue: the backend and the client address it counts by."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check for logins over HTTP; a no-op for ``authenticate()`` without a request.

    Axes refuses request-less calls outright, which would break the shell, management commands
    and the test client's ``login()``. None of them is an HTTP login to throttle: the login page
    and the admin login always pass the request.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_ip(request: HttpRequest) -> str | None:
    """The address failures are counted against (``AXES_CLIENT_IP_CALLABLE``).

    ``REMOTE_ADDR``, unless ``DJANGO_TRUSTED_PROXY_COUNT`` proxies append to ``X-Forwarded-For``:
    then the entry that many places from the right, the one the outermost trusted proxy saw.
    Entries further left are the client's to invent, so they are never used.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
