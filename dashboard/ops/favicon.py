"""``/favicon.ico``: browsers ask for it at the site's root on every page whatever the page's
``<link rel="icon">`` says, signed in or not; a 404 there fills the access log and the console.

The icon is the vendored ``static/favicon.ico`` (pages link ``static/favicon.svg`` too), served
from memory with a day's public caching, outside the sign-in requirement: it says nothing.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

ICON = settings.BASE_DIR / "static" / "favicon.ico"


@cache
def _icon() -> bytes:
    return ICON.read_bytes()


@login_not_required
@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_icon(), content_type="image/x-icon")
