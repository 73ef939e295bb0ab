"""Roles, supervisor scopes and API tokens.

Roles are Django groups named ``supervisor``, ``auditor`` and ``admin`` (``accounts.roles``);
``agent`` marks a CIC user who is a dialer agent (the ``/me/`` page). Users signed in with CIC
carry a ``CicIdentity``; agents keep their ICWS session as an ``AgentIcwsSession``.
"""

import hashlib

from django.conf import settings
from django.db import models


class SupervisorScope(models.Model):
    """Limits a supervisor to agents of some workgroups; no scope row means every workgroup."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supervisor_scope"
    )
    workgroups = models.ManyToManyField("directory.Workgroup", blank=True)
    # "admin": set by an administrator, never changed by a sign-in; "cic": from the supervisor's
    # CIC workgroups, renewed at each CIC sign-in (an admin's edit turns it into "admin").
    source = models.CharField(max_length=10, default="admin")

    def __str__(self) -> str:
        return f"Scope of {self.user}"


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a SHA-256 of the token is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()


class CicIdentity(models.Model):
    """A Django user made by signing in with CIC: who they are on CIC and what CIC said last.

    The roles a sign-in maps (groups) are recomputed from ``cic_roles``/``cic_workgroups`` at
    every sign-in; these copies are what the last one read, kept to tell a change and to show it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cic_identity"
    )
    cic_user_id = models.CharField(max_length=200, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    cic_roles = models.JSONField(default=list, blank=True)
    cic_workgroups = models.JSONField(default=list, blank=True)
    is_agent = models.BooleanField(default=False)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"CIC user {self.cic_user_id}"


class BreakGlassAccount(models.Model):
    """A local account allowed to sign in with its Django password while ``DASHBOARD_AUTH=cic``:
    the way in when CIC is down. Made with ``manage.py break_glass``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="break_glass"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Break-glass: {self.user}"


class AgentIcwsSession(models.Model):
    """An agent's own ICWS session, kept from sign-in for ``ready-for-calls``; never a password,
    and its tokens only sealed (``sealed``).

    Its tokens let the holder act as the agent on CIC until the session ends, so the row lives
    only while the dashboard session does: sign-out logs it out of CIC and deletes it, a new
    sign-in replaces it, and any CIC sign-in ends those older than a dashboard session lasts
    (``accounts.cic_sessions.close_stale``).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_icws_session"
    )
    cic_user_id = models.CharField(max_length=200)
    host = models.CharField(max_length=255)
    # The session id, CSRF token and cookie as one Fernet token under ICWS_SESSION_KEY
    # (accounts.session_seal): the database alone does not let anyone act as the agent.
    sealed = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"ICWS session of {self.cic_user_id}"
