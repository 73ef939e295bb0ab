"""System checks for sign-in with CIC (``manage.py check``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def sign_in_settings(app_configs, **kwargs):
    mode = getattr(settings, "DASHBOARD_AUTH", "local")
    if mode not in ("local", "cic", "both"):
        return [
            Error(
                f"DASHBOARD_AUTH is {mode!r}; it must be local, cic or both",
                id="accounts.E001",
            )
        ]
    if mode == "local":
        return []
    named = (
        list(settings.CIC_SUPERVISOR_ROLES)
        + list(settings.CIC_AUDITOR_ROLES)
        + list(settings.CIC_ADMIN_ROLES)
    )
    if not named:
        return [
            Warning(
                f"DASHBOARD_AUTH={mode} but CIC_SUPERVISOR_ROLES, CIC_AUDITOR_ROLES and "
                "CIC_ADMIN_ROLES are all empty: CIC sign-in gives nobody a dashboard role "
                "(only agents can sign in, to their own page)",
                id="accounts.W001",
            )
        ]
    return []
