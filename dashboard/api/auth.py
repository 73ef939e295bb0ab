"""API authentication: ``Authorization: Token <key>`` (``manage.py api_token``) or the session.

The session path keeps Django's CSRF check on unsafe methods (ninja's ``SessionAuth``); a token
is not sent by browsers on their own, so token requests need no CSRF token.
"""

from __future__ import annotations

from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja.security import APIKeyHeader, SessionAuth

from dashboard.accounts import roles
from dashboard.accounts.models import ApiToken
from dashboard.api.errors import error_body

# Writing last_used_at on every call would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION_SECONDS = 60


class TokenAuth(APIKeyHeader):
    param_name = "Authorization"

    def authenticate(self, request: HttpRequest, key: str | None):
        scheme, _, token = (key or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "token" or not token or len(token) > 200:
            return None
        # One round trip for the token, its user, the user's roles and scope row: a POST asks
        # for all of them (roles_of, allowed_workgroups), and under load every round trip of a
        # POST waits for PostgreSQL to be scheduled (half a worker's samples in bench/api_post.py
        # were such waits).
        api_token = (
            ApiToken.objects.select_related("user", "user__supervisor_scope")
            .annotate(**roles.role_annotations("user"))
            .filter(key_hash=ApiToken.hash(token), user__is_active=True)
            .first()
        )
        if api_token is None:
            return None
        roles.keep_annotated_roles(api_token.user, api_token)
        now = timezone.now()
        last = api_token.last_used_at
        if last is None or (now - last).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        return api_token.user


API_AUTH = [TokenAuth(), SessionAuth()]


def schema_needs_auth(view):
    """``docs_decorator`` for the schema: the same credentials as every call, else 401.

    The schema lists every operation and parameter; it is for the API's users, not the public.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs):
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if not signed_in and TokenAuth()(request) is None:
            detail = "Authentication required: send 'Authorization: Token <key>' or sign in"
            return JsonResponse(error_body(detail), status=401)
        return view(request, *args, **kwargs)

    return guarded
