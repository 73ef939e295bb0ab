"""System check for the audit signing key (id ``dashboard.E010``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=False)
def check_audit_signing_key(app_configs, **kwargs):
    """Without the key nothing outside the database vouches for the audit chain."""
    if settings.AUDIT_SIGNING_KEY or settings.DEBUG or settings.DEMO_MODE:
        return []
    return [
        Error(
            "AUDIT_SIGNING_KEY is not set.",
            hint="Set AUDIT_SIGNING_KEY (or AUDIT_SIGNING_KEY_FILE) to a random secret of at "
            "least 32 bytes, different from DJANGO_SECRET_KEY; it signs audit checkpoints and "
            "export trailers (docs/OPERATIONS.md, 'Tamper evidence').",
            id="dashboard.E010",
        )
    ]
