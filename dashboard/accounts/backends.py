"""Sign-in backends, chosen by ``DASHBOARD_AUTH`` (local, cic, both).

``LocalBackend`` is Django's password check, refused in ``cic`` mode to all but break-glass
accounts (``BreakGlassAccount``) and always to users made by CIC sign-in (their password is
CIC's). ``CicBackend`` checks the password with CIC (``cic_signin``). Both run after the throttle
(``throttle.LoginThrottleBackend``), so lockouts apply to CIC sign-in as to local.

A refusal CIC gave (wrong password, no role) is left on the request for the sign-in form to show
(``request.sign_in_refusal``) and counts as a failed sign-in. An outage raises ``CicUnreachable``
out of ``authenticate()`` when the request comes from ``SignInForm`` (``request.sign_in_form``):
the form shows it, and it is not counted against the user. From any other form (the admin's
sign-in page) an outage is a plain refusal, never a 500.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend

from dashboard.accounts import cic_signin
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record


class LocalBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs: Any):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            return None
        # Local passwords only: a CIC identity or a break-glass mark means nothing then.
        local_only = settings.DASHBOARD_AUTH == "local"
        if not local_only and hasattr(user, "cic_identity"):
            return None
        break_glass = not local_only and hasattr(user, "break_glass")
        if settings.DASHBOARD_AUTH == "cic" and not break_glass:
            if request is not None:
                _audit_local_refusal(user.get_username())
                request.sign_in_refusal = (
                    "Sign in with your CIC user ID and password; local passwords are only for "
                    "break-glass accounts."
                )
            return None
        if request is not None:  # a sign-in over HTTP, not a shell's authenticate()
            audit_record(
                kind=AuditEvent.Kind.SIGN_IN,
                actor=user,
                message="Signed in with a local password"
                + (" (break-glass)" if break_glass else ""),
                details={"auth": "local", "break_glass": break_glass},
            )
        return user


class CicBackend(BaseBackend):
    def authenticate(self, request, username=None, password=None, **kwargs: Any):
        if request is None or settings.DASHBOARD_AUTH == "local" or not username or not password:
            return None
        local = get_user_model().objects.filter(username=username).first()
        if local is not None and not hasattr(local, "cic_identity"):
            # A local account's name: its password is not sent to CIC, nor taken over by it.
            if not getattr(request, "sign_in_refusal", None):
                request.sign_in_refusal = cic_signin.LOCAL_NAME
            return None
        try:
            user, _ = cic_signin.sign_in(username, password)
        except cic_signin.SignInRefused as refusal:
            request.sign_in_refusal = refusal.text
            return None
        except cic_signin.CicUnreachable:
            if getattr(request, "sign_in_form", False):
                raise  # SignInForm shows it; nothing is counted against the user
            # Another form (the admin's sign-in) would turn the exception into a 500: a refusal.
            request.sign_in_refusal = cic_signin.UNREACHABLE
            return None
        return user

    def get_user(self, user_id):
        return ModelBackend().get_user(user_id)


def _audit_local_refusal(username: str) -> None:
    audit_record(
        kind=AuditEvent.Kind.SIGN_IN_REFUSED,
        actor=SimpleNamespace(username=username[:150], pk=None),
        message="Local password refused: DASHBOARD_AUTH=cic and not a break-glass account",
        details={"auth": "local", "reason": "not break-glass"},
    )
