"""Turn away input PostgreSQL cannot store before any view sees it: NUL characters.

PostgreSQL text cannot hold U+0000, so a NUL in a filter, a form field, a JSON string, a URL or a
cookie would reach the database as an error (500) instead of a message. SQLite stores it, so the
same request would behave differently per database. One guard for every endpoint, before the
session lookup (a session cookie is input too).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL = "\x00"
MESSAGE = "must not contain NUL characters (U+0000)"


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = _nul_in(request)
        if where is None:
            return self.get_response(request)
        detail = f"{where} {MESSAGE}"
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "errors": {where: MESSAGE}}, status=400)
        return HttpResponseBadRequest(f"Bad request: {detail}.\n", content_type="text/plain")


def _nul_in(request: HttpRequest) -> str | None:
    if NUL in request.path:
        return "the address"
    for name, value in request.COOKIES.items():
        if NUL in name or NUL in value:
            return "a cookie"
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in v for v in values):
            return key.replace(NUL, "") or "a query parameter"
    if request.method in ("POST", "PUT", "PATCH"):
        content_type = request.content_type or ""
        if content_type.startswith("application/json"):
            body = request.body
            # JSON can only carry U+0000 escaped (or as a raw byte, which is invalid JSON anyway).
            if b"\x00" in body or b"\\u0000" in body.lower():
                return "the JSON body"
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, values in request.POST.lists():
                if NUL in key or any(NUL in v for v in values):
                    return key.replace(NUL, "") or "a form field"
    return None
