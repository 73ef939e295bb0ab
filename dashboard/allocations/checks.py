"""System check: a job's lease must outlast one send, or a live send gets taken over.

The ICWS client gives each request one overall deadline (``ICWS_TIMEOUT``, covering connect,
headers and body). If the lease ran out before that, the sweeper would hand the job to a second
worker while the first was still waiting for its answer, and the batch would be sent twice.
Fencing (``execute._fenced``) keeps the roster right even then; this keeps it from happening.
"""

from django.conf import settings
from django.core.checks import Error, register

# Time past the send deadline for the worker to write its outcome (two short transactions) and
# for clock skew between the worker and the sweeper.
LEASE_MARGIN_SECONDS = 5.0


@register()
def lease_outlasts_send(app_configs=None, **kwargs):
    lease = settings.ALLOCATION_LEASE_SECONDS
    need = settings.ICWS_TIMEOUT + LEASE_MARGIN_SECONDS
    if lease <= need:
        return [
            Error(
                f"ALLOCATION_LEASE_SECONDS ({lease:g}) must be more than ICWS_TIMEOUT "
                f"({settings.ICWS_TIMEOUT:g}) plus {LEASE_MARGIN_SECONDS:g} s.",
                hint="A lease shorter than one send lets a second worker send the same batch "
                "while the first is still waiting for its answer. Raise the lease or lower "
                "ICWS_TIMEOUT.",
                id="allocations.E001",
            )
        ]
    return []
