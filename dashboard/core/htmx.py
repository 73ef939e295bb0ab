"""One rule for what an htmx request gets: the partial, not the page.

``@htmx_partial("board/job_list.html#job-table")`` on a view that returns a ``TemplateResponse``
of the full page swaps in the partial when the request comes from htmx (not boosted: a boosted
link wants the whole page), and marks the response as varying on ``HX-Request`` so a cache never
serves one for the other.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers


def wants_partial(request: HttpRequest, target: str | None = None) -> bool:
    """An htmx request that is not boosted (and aims at ``target``, when one is named)."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.boosted:
        return False
    return target is None or htmx.target == target


def htmx_partial(template_name: str, *, target: str | None = None) -> Callable:
    """Render ``template_name`` (``page.html#partial``) instead of the page for htmx requests,
    only those aimed at element id ``target`` when it is given."""
    vary = ("HX-Request",) if target is None else ("HX-Request", "HX-Target")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if isinstance(response, TemplateResponse) and wants_partial(request, target):
                response.template_name = template_name
            patch_vary_headers(response, vary)
            return response

        return wrapped

    return decorator
