"""API authentication: ``Authorization: Token <key>`` (``manage.py api_token``) or the session.

The session path keeps Django's CSRF check on unsafe methods (ninja's ``SessionAuth``); a token
is not sent by browsers on their own, so token requests need no CSRF token.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja.security import APIKeyHeader, SessionAuth

from dashboard.accounts import roles
from dashboard.accounts.models import ApiToken, SupervisorScope
from dashboard.api.errors import error_body
from dashboard.core.prepared import PreparedRead

# Writing last_used_at on every call would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION_SECONDS = 60


class TokenAuth(APIKeyHeader):
    param_name = "Authorization"

    def authenticate(self, request: HttpRequest, key: str | None):
        scheme, _, token = (key or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "token" or not token or len(token) > 200:
            return None
        found = _TOKEN_READ.rows(ApiToken.hash(token))
        if not found:
            return None
        token_pk, last, user = _token_and_user(found[0])
        now = timezone.now()
        if last is None or (now - last).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiToken.objects.filter(pk=token_pk).update(last_used_at=now)
        request.user = user
        return user


User = get_user_model()
_USER_COLUMNS = tuple(f.attname for f in User._meta.concrete_fields)
_TOKEN_COLUMNS = (
    "pk",
    "last_used_at",
    "user__supervisor_scope__id",
    "user__supervisor_scope__source",
)


def _token_query(key_hash: str):
    """One round trip for the token, its active user, the user's roles and scope row: a POST
    asks for all of them (``roles_of``, ``allowed_workgroups``), and under load every round trip
    of a POST waits for PostgreSQL to be scheduled (half a worker's samples in
    bench/api_post.py were such waits). Compiled once (``PreparedRead``): building it took a
    third of a token POST's CPU."""
    return (
        ApiToken.objects.filter(key_hash=key_hash, user__is_active=True)
        .annotate(**roles.role_annotations("user"))
        .order_by()
        .values_list(*_TOKEN_COLUMNS, *roles.ROLE_FLAGS, *(f"user__{c}" for c in _USER_COLUMNS))[:1]
    )


_TOKEN_READ = PreparedRead(_token_query)


def _token_and_user(row: tuple):
    """The token's pk and last use, and its user with the user's roles and scope row kept on it
    as the token query read them (``roles_of`` and ``allowed_workgroups`` ask no more)."""
    token_pk, last_used_at, scope_pk, scope_source = row[: len(_TOKEN_COLUMNS)]
    flags = row[len(_TOKEN_COLUMNS) : len(_TOKEN_COLUMNS) + len(roles.ROLE_FLAGS)]
    user = User.from_db(
        DEFAULT_DB_ALIAS, _USER_COLUMNS, row[len(_TOKEN_COLUMNS) + len(roles.ROLE_FLAGS) :]
    )
    scope = None
    if scope_pk is not None:
        scope = SupervisorScope(pk=scope_pk, user=user, source=scope_source)
        scope._state.adding, scope._state.db = False, DEFAULT_DB_ALIAS
    # As select_related("user__supervisor_scope") leaves it: no scope row reads as none.
    User.supervisor_scope.related.set_cached_value(user, scope)
    roles.keep_annotated_roles(user, flags)
    return token_pk, last_used_at, user


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
