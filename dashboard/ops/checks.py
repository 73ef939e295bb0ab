"""System checks for the ICWS and metrics settings (ids ``dashboard.E001``, ``W001``...)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.compatibility, deploy=False)
def check_icws_settings(app_configs, **kwargs):
    errors = []
    if not settings.ICWS_USER:
        errors.append(
            Error(
                "ICWS_USER is not set.",
                hint="Set ICWS_USER to the CIC user the dashboard logs in as (a service account).",
                id="dashboard.E001",
            )
        )
    if not settings.ICWS_PASSWORD:
        errors.append(
            Error(
                "ICWS_PASSWORD is not set.",
                hint="Set ICWS_PASSWORD, or ICWS_PASSWORD_FILE naming a file that holds it.",
                id="dashboard.E002",
            )
        )
    if (
        settings.ICWS_BASE_URL.startswith("http://")
        and not settings.DEBUG
        and not (settings.DEMO_MODE)
    ):
        errors.append(
            Warning(
                "ICWS_BASE_URL uses plain http:// outside debug and demo mode.",
                hint="Use https://<server>:8019 so the ICWS password and session cookie are "
                "encrypted in transit.",
                id="dashboard.W001",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def check_metrics_token(app_configs, **kwargs):
    """/metrics names ICWS paths, job counts and sync health: not for anyone on the network."""
    if settings.METRICS_ENABLED and not settings.METRICS_TOKEN:
        return [
            Warning(
                "/metrics is served without a token only in debug; outside debug it answers "
                "403 until METRICS_TOKEN is set, and /readyz gives its status alone.",
                hint="Set METRICS_TOKEN (or METRICS_TOKEN_FILE) and give Prometheus the same "
                "bearer token, or set METRICS_ENABLED=0.",
                id="dashboard.W002",
            )
        ]
    return []
