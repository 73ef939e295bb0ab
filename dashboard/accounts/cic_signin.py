"""Signing in with a CIC account: an ICWS connect as the user, then roles from CIC.

Phases: ``check_credentials`` (connect; the password goes to the configured ICWS host and the
alternates ``ICWS_ALTERNATE_HOSTS`` allows, nowhere else, and is never stored), ``read_access``
(the user's roles and workgroups as the record shows them: ``configuration/users/{id}``),
``map_roles`` (``CIC_SUPERVISOR_ROLES``/``CIC_AUDITOR_ROLES``/``CIC_ADMIN_ROLES`` against role and
workgroup ids and display names, any case), ``apply`` (the Django user, its groups, a
supervisor's scope, audit rows). The ICWS session is logged out at once unless the user is an
agent, whose session is kept (``cic_sessions``) for ready-for-calls until sign-out.

Refusals are ``SignInRefused`` (wrong password, no role, deactivated): the sign-in form shows
their text and they count as failed sign-ins for the throttle. An outage is ``CicUnreachable``:
the form says CIC cannot be reached, and it does not count against the user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from dashboard.accounts import cic_sessions
from dashboard.accounts.models import CicIdentity, SupervisorScope
from dashboard.accounts.roles import ADMIN, AGENT, AUDITOR, ROLES, SUPERVISOR
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Agent, Workgroup
from icws_client import (
    IcwsBadRequest,
    IcwsClient,
    IcwsConnectionError,
    IcwsError,
    IcwsForbidden,
    IcwsNotFound,
    IcwsServerError,
    IcwsUnauthorized,
    IcwsUnavailable,
)
from icws_client.client import UserAccess

log = logging.getLogger(__name__)

BAD_CREDENTIALS = "CIC did not accept that user ID and password."
NO_ROLE = (
    "Your CIC account has no role on this dashboard and is not a dialer agent. Ask an "
    "administrator to add your CIC role or workgroup to the dashboard's role settings."
)
UNREACHABLE = (
    "CIC cannot be reached right now, so CIC sign-in is not possible. Try again in a few "
    "minutes; administrators can sign in with a break-glass account."
)
LOCAL_NAME = "A local dashboard account has this name; sign in with its local password."
AUTH_FAILURE_CODE = -2147221503  # REF 6: bad user/password/expired password at connect


class SignInRefused(Exception):
    """CIC answered, and the answer is no. ``text`` is for the user, ``reason`` for the audit."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(text)
        self.text = text
        self.reason = reason


class CicUnreachable(Exception):
    """CIC could not be asked (down, timed out, 5xx): nobody's credentials were judged."""

    def __init__(self, detail: str) -> None:
        super().__init__(UNREACHABLE)
        self.text = UNREACHABLE
        self.detail = detail


@dataclass(frozen=True)
class Mapped:
    roles: frozenset[str]  # dashboard roles (ROLES) CIC gives
    is_agent: bool


def sign_in(username: str, password: str) -> tuple[object, bool]:
    """The Django user for a CIC sign-in, and whether it is new; raises the two errors above.

    Every outcome is audited: SIGN_IN, SIGN_IN_REFUSED (with why), ROLE_CHANGED when the roles
    CIC gives differ from the last sign-in's.
    """
    client = check_credentials(username, password)
    kept = False
    try:
        user_id = (client.connection.user_id if client.connection else "") or username
        access = read_access(client, user_id)
        mapped = map_roles(access)
        if not mapped.roles and not mapped.is_agent:
            raise _refused(username, NO_ROLE, "no dashboard role and not an agent", access)
        user, created = apply(access, mapped)
        if mapped.is_agent:
            cic_sessions.keep(user, client)
            kept = True
        return user, created
    finally:
        if not kept:
            client.close()


def user_client(username: str, password: str) -> IcwsClient:
    """A client that connects as the user (not yet connected); also icws_check's."""
    return IcwsClient(
        settings.ICWS_BASE_URL,
        username,
        password,
        application_name=settings.ICWS_AGENT_APPLICATION_NAME,
        language=settings.ICWS_LANGUAGE,
        timeout=settings.ICWS_TIMEOUT,
        allowed_alternate_hosts=settings.ICWS_ALTERNATE_HOSTS,
        read_retries=0,
    )


def check_credentials(username: str, password: str) -> IcwsClient:
    client = user_client(username, password)
    try:
        client.connect()
    except IcwsBadRequest as exc:
        client.close()
        if exc.error_code == AUTH_FAILURE_CODE or "authenticationFailure" in (exc.error_id or ""):
            raise _refused(username, BAD_CREDENTIALS, "wrong user ID or password") from None
        raise _refused(username, f"CIC refused the sign-in: {exc.message}", str(exc)) from None
    except (IcwsUnauthorized, IcwsForbidden) as exc:
        client.close()
        raise _refused(username, f"CIC refused the sign-in: {exc.message}", str(exc)) from None
    except (IcwsConnectionError, IcwsUnavailable, IcwsServerError) as exc:
        client.close()
        raise _unreachable(username, exc) from None
    except IcwsError as exc:  # an answer the documents do not allow: CIC cannot be used now
        client.close()
        raise _unreachable(username, exc) from None
    return client


def read_access(client: IcwsClient, user_id: str) -> UserAccess:
    """Roles and workgroups; none when CIC will not show the user their own record (403/404)."""
    try:
        return client.get_user_access(user_id)
    except (IcwsForbidden, IcwsNotFound) as exc:
        log.warning("CIC would not show %s their roles (%s); mapping none", user_id, exc)
        display = client.connection.user_display_name if client.connection else user_id
        return UserAccess(user_id, display or user_id, (), ())
    except IcwsError as exc:
        raise _unreachable(user_id, exc) from None


def _names(values: list[str]) -> set[str]:
    return {v.strip().casefold() for v in values if v.strip()}


def map_roles(access: UserAccess) -> Mapped:
    held = _names([*access.roles, *access.role_names, *access.workgroups, *access.workgroup_names])
    roles = set()
    for role, setting in (
        (SUPERVISOR, settings.CIC_SUPERVISOR_ROLES),
        (AUDITOR, settings.CIC_AUDITOR_ROLES),
        (ADMIN, settings.CIC_ADMIN_ROLES),
    ):
        if held & _names(setting):
            roles.add(role)
    agent_groups = _names(settings.ICWS_AGENT_WORKGROUPS)
    is_agent = bool(agent_groups & _names([*access.workgroups, *access.workgroup_names])) or (
        Agent.objects.filter(id=access.user_id, active=True).exists()
    )
    return Mapped(frozenset(roles), is_agent)


def apply(access: UserAccess, mapped: Mapped):
    """Create or update the Django user for ``access`` with the roles ``mapped`` gives.

    The refusals come first, outside the transaction, so their audit rows stay written."""
    User = get_user_model()
    user = User.objects.filter(username=access.user_id).first()
    if user is not None and not hasattr(user, "cic_identity"):
        # A local account of that name: CIC must not take it over (nor its audit history).
        raise _refused(
            access.user_id,
            LOCAL_NAME,
            "a local account of the same name exists",
            access,
        )
    if user is not None and not user.is_active:
        raise _refused(
            access.user_id,
            "This dashboard account is deactivated. Ask an administrator.",
            "account deactivated",
            access,
        )
    with transaction.atomic():
        return _save(access, mapped)


def _save(access: UserAccess, mapped: Mapped):
    User = get_user_model()
    user = User.objects.filter(username=access.user_id).select_for_update().first()
    created = user is None
    if created:
        user = User(username=access.user_id)
        user.set_unusable_password()
    user.first_name = access.display_name[:150]
    user.is_staff = ADMIN in mapped.roles  # the admin site needs it on top of the admin role
    user.is_superuser = False
    user.save()
    identity, _ = CicIdentity.objects.get_or_create(
        user=user, defaults={"cic_user_id": access.user_id}
    )
    before = set(user.groups.filter(name__in=(*ROLES, AGENT)).values_list("name", flat=True))
    after = set(mapped.roles) | ({AGENT} if mapped.is_agent else set())
    for name in (*ROLES, AGENT):
        group, _ = Group.objects.get_or_create(name=name)
        (user.groups.add if name in after else user.groups.remove)(group)
    identity.display_name = access.display_name[:200]
    identity.cic_roles = list(access.roles)
    identity.cic_workgroups = list(access.workgroups)
    identity.is_agent = mapped.is_agent
    identity.last_sign_in_at = timezone.now()
    identity.save()
    scope_note = _apply_scope(user, access, SUPERVISOR in mapped.roles)
    details = {
        "auth": "cic",
        "roles": sorted(after),
        "cic_roles": list(access.roles),
        "cic_workgroups": list(access.workgroups),
        "scope": scope_note,
    }
    if not created and before != after:
        audit_record(
            kind=AuditEvent.Kind.ROLE_CHANGED,
            actor=user,
            message=(
                f"Roles from CIC changed: {', '.join(sorted(before)) or 'none'} -> "
                f"{', '.join(sorted(after)) or 'none'}"
            ),
            details={**details, "roles_before": sorted(before)},
        )
    audit_record(
        kind=AuditEvent.Kind.SIGN_IN,
        actor=user,
        message=f"Signed in with CIC as {', '.join(sorted(after))}",
        details=details,
    )
    return user, created


def _apply_scope(user, access: UserAccess, is_supervisor: bool) -> str:
    """A supervisor's scope from their CIC workgroups the dashboard knows, unless an admin set
    one (the admin's wins). In none of them: no CIC scope, as for a local supervisor without one
    (every workgroup; an admin can limit it)."""
    scope = SupervisorScope.objects.filter(user=user).first()
    if scope is not None and scope.source != "cic":
        return "set by an admin"
    known = list(Workgroup.objects.filter(id__in=access.workgroups).values_list("id", flat=True))
    if not is_supervisor or not known:
        if scope is not None:
            scope.delete()
        return "none"
    if scope is None:
        scope = SupervisorScope.objects.create(user=user, source="cic")
    scope.workgroups.set(known)
    return "from CIC: " + ", ".join(sorted(known))


def _refused(
    username: str, text: str, reason: str, access: UserAccess | None = None
) -> SignInRefused:
    details = {"auth": "cic", "reason": reason}
    if access is not None:
        details.update(cic_roles=list(access.roles), cic_workgroups=list(access.workgroups))
    audit_record(
        kind=AuditEvent.Kind.SIGN_IN_REFUSED,
        actor=SimpleNamespace(username=username[:150], pk=None),
        message=f"CIC sign-in refused: {reason}",
        details=details,
    )
    return SignInRefused(text, reason)


def _unreachable(username: str, exc: IcwsError) -> CicUnreachable:
    audit_record(
        kind=AuditEvent.Kind.SIGN_IN_REFUSED,
        actor=SimpleNamespace(username=username[:150], pk=None),
        message="CIC sign-in not possible: CIC could not be reached",
        icws_error=exc,
        details={"auth": "cic", "reason": "cic unreachable"},
    )
    return CicUnreachable(str(exc))
