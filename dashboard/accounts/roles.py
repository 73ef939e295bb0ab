"""Who may do what. Views and services both ask these functions; neither trusts the other."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef

SUPERVISOR = "supervisor"
AUDITOR = "auditor"
ADMIN = "admin"
ROLES = (SUPERVISOR, AUDITOR, ADMIN)
# Not a dashboard role: a CIC user who is a dialer agent, for their own page (/me/) only.
AGENT = "agent"


def roles_of(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    """The user's dashboard roles, read once per user object (one object per request)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    cached = getattr(user, "_dashboard_roles", None)
    if cached is None:
        names = user.groups.filter(name__in=ROLES).values_list("name", flat=True)
        cached = _keep_roles(user, names)
    return cached


def role_annotations(user_ref: str = "pk") -> dict[str, Exists]:
    """Annotations that read the roles of the user at ``user_ref`` (``"user"`` on an API token
    row) in the query that loads the user, so a request that authenticates by such a query
    spends no round trip of its own on roles. Named ``ROLE_FLAGS``; ``keep_annotated_roles``
    stores what they read."""
    return {
        flag: Exists(Group.objects.filter(user=OuterRef(user_ref), name=role))
        for flag, role in zip(ROLE_FLAGS, ROLES, strict=True)
    }


ROLE_FLAGS = tuple(f"_has_role_{role}" for role in ROLES)


def keep_annotated_roles(user, flags) -> None:
    """Cache on ``user`` the roles ``role_annotations`` read (``flags``: their values in
    ``ROLE_FLAGS`` order); ``roles_of`` then answers from them."""
    _keep_roles(user, [role for role, held in zip(ROLES, flags, strict=True) if held])


def _keep_roles(user, names) -> set[str]:
    roles = set(names)
    if user.is_superuser:
        roles.add(ADMIN)
    user._dashboard_roles = roles
    return roles


def role_label(user) -> str:
    roles = roles_of(user)
    for role in (ADMIN, SUPERVISOR, AUDITOR):
        if role in roles:
            return role
    return "agent" if is_agent(user) else "viewer"


def can_move_agents(user) -> bool:
    return bool(roles_of(user) & {SUPERVISOR, ADMIN})


def can_view_board(user) -> bool:
    return bool(roles_of(user))


def can_view_audit(user) -> bool:
    return bool(roles_of(user) & {AUDITOR, SUPERVISOR, ADMIN})


def allowed_workgroups(user) -> set[str] | None:
    """Workgroup ids a supervisor may move agents of; None means no limit (admins, unscoped)."""
    if ADMIN in roles_of(user):
        return None
    # Cached like the roles: a submit asks twice (the approval gate, then the scope check).
    cached = getattr(user, "_dashboard_workgroups", _UNREAD)
    if cached is _UNREAD:
        scope = getattr(user, "supervisor_scope", None)
        cached = None if scope is None else set(scope.workgroups.values_list("id", flat=True))
        user._dashboard_workgroups = cached
    return cached


_UNREAD = object()


def is_agent(user) -> bool:
    """A CIC-signed-in dialer agent: may use their own page (``/me/``), nothing else by it."""
    if not user.is_authenticated or not user.is_active:
        return False
    cached = getattr(user, "_dashboard_is_agent", None)
    if cached is None:
        cached = user.groups.filter(name=AGENT).exists() and hasattr(user, "cic_identity")
        user._dashboard_is_agent = cached
    return cached


def home_url(user) -> str:
    """Where sign-in lands: the board for a dashboard role, else an agent's own page."""
    return "/me/" if is_agent(user) and not roles_of(user) else "/"


# Guards for views and API endpoints: a 403 with a message that says what role is missing.


def require_board(user) -> None:
    if not can_view_board(user):
        raise PermissionDenied("Your account has no dashboard role; ask an administrator for one")


def require_mover(user) -> None:
    if not can_move_agents(user):
        raise PermissionDenied("Your role may not move agents (supervisor or admin only)")


def require_audit(user) -> None:
    if not can_view_audit(user):
        raise PermissionDenied("The audit log is for auditors, supervisors and admins")


def require_agent(user) -> None:
    if not is_agent(user):
        raise PermissionDenied("This page is for dialer agents signed in with their CIC account")
