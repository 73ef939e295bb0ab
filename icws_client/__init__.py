"""Framework-free client for the Genesys PureConnect (CIC) ICWS REST API, plus a simulator.

Nothing in this package imports Django: the dashboard builds the client from its settings in
``dashboard/icws.py``.
"""

from .client import IcwsClient
from .exceptions import (
    IcwsBadRequest,
    IcwsConnectionError,
    IcwsError,
    IcwsForbidden,
    IcwsGone,
    IcwsNotFound,
    IcwsProtocolError,
    IcwsRequestRefused,
    IcwsServerError,
    IcwsTimeout,
    IcwsUnauthorized,
    IcwsUnavailable,
    IcwsUnsupportedFeature,
    error_for_status,
)
from .models import Campaign, Connection, Feature, StatusMessage, User, UserStatus, Workgroup

__all__ = [
    "Campaign",
    "Connection",
    "Feature",
    "IcwsBadRequest",
    "IcwsClient",
    "IcwsConnectionError",
    "IcwsError",
    "IcwsForbidden",
    "IcwsGone",
    "IcwsNotFound",
    "IcwsProtocolError",
    "IcwsRequestRefused",
    "IcwsServerError",
    "IcwsTimeout",
    "IcwsUnauthorized",
    "IcwsUnavailable",
    "IcwsUnsupportedFeature",
    "StatusMessage",
    "User",
    "UserStatus",
    "Workgroup",
    "error_for_status",
]
