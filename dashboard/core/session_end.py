"""An htmx request whose session has ended gets the whole-page sign-in, not a fragment of it.

``LoginRequiredMiddleware`` answers a signed-out request with a 302 to the login page; htmx
would follow it and swap the sign-in form into a dialog, a column or the jobs panel. For htmx
requests this turns that redirect into ``HX-Redirect`` (htmx then loads the whole page), with
the page the supervisor was on (the board for its polls) as ``next``.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

ENDED = "1"
ENDED_WHILE_SENDING = "sent"
# POSTs a page makes on its own, which carry nothing she did: the open confirmation's check of
# what changed since it opened (each second) and activity reports.
POLLS = frozenset({"move-check", "board-activity"})


def _page_of(request: HttpRequest) -> str:
    """The path of the page the htmx request came from (same host only), else the board."""
    current = request.headers.get("HX-Current-URL", "")
    if current and url_has_allowed_host_and_scheme(current, allowed_hosts={request.get_host()}):
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return resolve_url("board")


class HtmxSessionEndMiddleware:
    """Sits outside ``LoginRequiredMiddleware`` and rewrites its redirect for htmx requests."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or response.status_code != 302:
            return response
        user = getattr(request, "user", None)
        login = resolve_url(settings.LOGIN_URL)
        if user is None or user.is_authenticated:
            return response
        if urlsplit(response.get("Location", "")).path != login:
            return response
        # ended: what the sign-in page tells her (accounts.views.SignInView): her session
        # ended, and, for a POST (a confirmed move, say), that it was not carried out.
        match = getattr(request, "resolver_match", None)
        sent = request.method == "POST" and (match is None or match.url_name not in POLLS)
        ended = ENDED_WHILE_SENDING if sent else ENDED
        answer = HttpResponse(status=204)
        answer["HX-Redirect"] = f"{login}?{urlencode({'next': _page_of(request), 'ended': ended})}"
        return answer
