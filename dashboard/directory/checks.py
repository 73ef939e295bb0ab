"""System check: outside demo mode the directory must be told which CIC workgroups are agents."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def agent_workgroups_named(app_configs=None, **kwargs):
    if settings.ICWS_AGENT_WORKGROUPS or getattr(settings, "DEMO_MODE", False):
        return []
    return [
        checks.Error(
            "ICWS_AGENT_WORKGROUPS is not set, so the directory would list no agents.",
            hint="Set ICWS_AGENT_WORKGROUPS to the comma list of CIC workgroups whose members "
            "are the dialer agents (manage.py icws_check lists the workgroups CIC has).",
            id="directory.E001",
        )
    ]
