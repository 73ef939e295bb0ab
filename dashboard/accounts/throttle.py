"""Login throttling (django-axes) glue: the backend, the client address it counts by, and the
lockout of one username across every address.

Two limits, both within ``LOGIN_COOLOFF_MINUTES``: ``LOGIN_FAILURE_LIMIT`` failures of one
username from one address (axes' own lockout), and ``LOGIN_USERNAME_FAILURE_LIMIT`` failures of
one username summed over every address (``username_locked_out``), so an attacker who owns many
addresses still gets only so many guesses at one account.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from dashboard.env import IpNetwork


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check for logins over HTTP, then the username-wide one; a no-op for
    ``authenticate()`` without a request.

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
        super().authenticate(request, username, password, **kwargs)
        if username and username_locked_out(username):
            # What axes does for its own lockout: the middleware turns the flag into the 429
            # page, and the failure signal Django sends on this exception is not counted again.
            request.axes_locked_out = True  # type: ignore[attr-defined]
            raise AxesBackendPermissionDenied("this username is locked out on every address")
        return None


def is_locked_out(request: HttpRequest, username: str) -> bool:
    """Either lockout, for a sign-in by ``username`` over ``request`` (also asked by the password
    change, whose wrong old passwords count as failed sign-ins)."""
    return not AxesProxyHandler.is_allowed(request, {"username": username}) or (
        username_locked_out(username)
    )


def username_locked_out(username: str) -> bool:
    """True once ``username`` has ``LOGIN_USERNAME_FAILURE_LIMIT`` recent failures, from any
    addresses together."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(username=username, attempt_time__gt=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return (failures or 0) >= settings.LOGIN_USERNAME_FAILURE_LIMIT


def client_ip(request: HttpRequest) -> str | None:
    """The address failures are counted against (``AXES_CLIENT_IP_CALLABLE``).

    ``REMOTE_ADDR``, unless the peer is one of ``DJANGO_TRUSTED_PROXIES``: then
    ``X-Forwarded-For`` is read from the right, past every trusted proxy, and the first address
    that is not one is the client. Entries further left are the client's to invent, and so is the
    whole header when the peer is not a trusted proxy (a client that reaches the app directly),
    so neither is ever used. Trust is by network, never by counting hops: a count trusts
    whatever the first hop says.
    """
    peer = request.META.get("REMOTE_ADDR")
    trusted = settings.TRUSTED_PROXIES
    if not trusted or not _in(peer, trusted):
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    client = peer
    for hop in reversed(forwarded):
        if not _is_ip(hop):
            break  # not what a proxy of ours appends: keep the last address one of them saw
        client = hop
        if not _in(hop, trusted):
            break
    return client


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _in(address: str | None, networks: list[IpNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)
