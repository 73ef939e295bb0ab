"""Framework-free client for the Genesys PureConnect (CIC) ICWS REST API, plus a simulator.

Nothing in this package imports Django: the dashboard builds the client from its settings in
``dashboard/icws.py``.

Where things are
    ``client.py`` ``IcwsClient``: the calls (dialer, directory, status, messaging) and the retry
    policy. ``session.py``: connect, CSRF token and cookie, the 401/410 reconnect, "a 202 is the
    answer", and the one way out for every HTTP request. ``hosts.py``: alternate hosts, the
    operator's allow-list and failover. ``_http.py``: one request, decoded or typed as an error;
    ``_deadline.py``: its single overall deadline. ``hooks.py``: ``on_call`` and ``IcwsCall``
    (one per HTTP request, for metrics). ``exceptions.py``: the typed errors. ``models.py``: the
    typed answers. ``simulator/``: a strict ICWS simulator (its docstring is its specification).
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
from .hooks import IcwsCall, OnCall
from .models import Campaign, Connection, Feature, StatusMessage, User, UserStatus, Workgroup

__all__ = [
    "Campaign",
    "Connection",
    "Feature",
    "IcwsBadRequest",
    "IcwsCall",
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
    "OnCall",
    "StatusMessage",
    "User",
    "UserStatus",
    "Workgroup",
    "error_for_status",
]
