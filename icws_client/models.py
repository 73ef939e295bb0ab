"""Typed results of ICWS calls, parsed strictly from the documented JSON shapes.

A response that lacks a required property, or carries one of the wrong type, raises
``IcwsProtocolError`` naming the property: bad data from a server never reaches the dashboard
half-parsed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .exceptions import IcwsProtocolError

# campaignStatusType (REFERENCE.md 3.3): a flag-like list on each campaign.
CAMPAIGN_STATUS_NAMES = {
    0: "invalid",
    1: "on",
    2: "off",
    4: "schedule-only",
    8: "auto",
    16: "paused",
    32: "completed",
}
# When several flags are present, the most telling one names the state.
_STATE_PRECEDENCE = (32, 16, 2, 4, 8, 1, 0)


def _require(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict):
        raise IcwsProtocolError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if key not in obj:
        raise IcwsProtocolError(f"{where}: required property '{key}' is missing")
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise IcwsProtocolError(f"{where}: property '{key}' has the wrong type")
    return value


def _optional(obj: Any, key: str, kind: type | tuple[type, ...], where: str, default: Any = None):
    if not isinstance(obj, dict):  # a list, a string or nothing where an object belongs
        raise IcwsProtocolError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise IcwsProtocolError(f"{where}: property '{key}' has the wrong type")
    return value


def _config_id(obj: Any, where: str) -> tuple[str, str]:
    """(id, displayName) from a ``configurationId`` object; displayName falls back to the id."""
    cid = _require(obj, "configurationId", dict, where)
    ident = _require(cid, "id", str, f"{where}.configurationId")
    name = _optional(cid, "displayName", str, f"{where}.configurationId", ident)
    return ident, name


def _id_list(obj: dict, key: str, where: str) -> tuple[str, ...]:
    items = _optional(obj, key, list, where, [])
    return tuple(_require(item, "id", str, f"{where}.{key}[{i}]") for i, item in enumerate(items))


def parse_icws_time(value: str | None) -> dt.datetime | None:
    """ICWS date-times: compact ``20210706T193229Z`` or extended ``2021-07-06T19:32:29Z``, UTC."""
    if not value:
        return None
    for fmt in ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    raise IcwsProtocolError(f"unrecognised ICWS date-time {value!r}")


@dataclass(frozen=True, slots=True)
class Feature:
    feature_id: str
    version: int

    @classmethod
    def from_json(cls, obj: Any) -> Feature:
        return cls(
            feature_id=_require(obj, "featureId", str, "feature"),
            version=_require(obj, "version", int, "feature"),
        )


@dataclass(frozen=True, slots=True)
class Connection:
    """What ``POST /icws/connection`` returned (201 ``connectionResponse``)."""

    session_id: str
    csrf_token: str
    user_id: str
    user_display_name: str
    ic_server: str
    alternate_hosts: tuple[str, ...]
    features: tuple[Feature, ...]

    @classmethod
    def from_json(cls, obj: Any) -> Connection:
        where = "connectionResponse"
        hosts = _optional(obj, "alternateHostList", list, where, [])
        features = _optional(obj, "features", list, where, [])
        user_id = _optional(obj, "userID", str, where, "")
        return cls(
            session_id=_require(obj, "sessionId", str, where),
            csrf_token=_require(obj, "csrfToken", str, where),
            user_id=user_id,
            user_display_name=_optional(obj, "userDisplayName", str, where, user_id),
            ic_server=_optional(obj, "icServer", str, where, ""),
            alternate_hosts=tuple(h for h in hosts if isinstance(h, str) and h),
            features=tuple(Feature.from_json(f) for f in features),
        )


@dataclass(frozen=True, slots=True)
class User:
    """An ICWS user (``configuration/users``); agents are users in dialer workgroups."""

    id: str
    display_name: str
    workgroups: tuple[str, ...]
    extension: str = ""

    @classmethod
    def from_json(cls, obj: Any) -> User:
        ident, name = _config_id(obj, "user")
        return cls(
            id=ident,
            display_name=name,
            workgroups=_id_list(obj, "workgroups", "user"),
            extension=_optional(obj, "extension", str, "user", ""),
        )


@dataclass(frozen=True, slots=True)
class Workgroup:
    id: str
    display_name: str
    members: tuple[str, ...]
    is_active: bool = True
    has_queue: bool = True

    @classmethod
    def from_json(cls, obj: Any) -> Workgroup:
        ident, name = _config_id(obj, "workgroup")
        return cls(
            id=ident,
            display_name=name,
            members=_id_list(obj, "members", "workgroup"),
            is_active=_optional(obj, "isActive", bool, "workgroup", True),
            has_queue=_optional(obj, "hasQueue", bool, "workgroup", True),
        )


@dataclass(frozen=True, slots=True)
class Campaign:
    """A dialer campaign (``configuration/interaction-dialer-campaign-acls``).

    ``statuses`` are campaignStatusType flags; ``workgroup`` and ``statuses`` are absent on servers
    that do not expose them on the ACL list, in which case ``state`` is ``"unknown"``.
    """

    id: str
    name: str
    workgroup: str | None
    statuses: tuple[int, ...]
    campaign_type: int | None = None

    @property
    def state(self) -> str:
        for flag in _STATE_PRECEDENCE:
            if flag in self.statuses:
                return CAMPAIGN_STATUS_NAMES[flag]
        return "unknown"

    @classmethod
    def from_json(cls, obj: Any) -> Campaign:
        ident, name = _config_id(obj, "campaign")
        wg = obj.get("workgroup")
        workgroup = None
        if isinstance(wg, dict):
            workgroup = _require(wg, "id", str, "campaign.workgroup")
        elif isinstance(wg, str):
            workgroup = wg
        statuses = _optional(obj, "status", list, "campaign", [])
        if not all(isinstance(s, int) and not isinstance(s, bool) for s in statuses):
            raise IcwsProtocolError("campaign: property 'status' must be a list of integers")
        return cls(
            id=ident,
            name=name,
            workgroup=workgroup,
            statuses=tuple(statuses),
            campaign_type=_optional(obj, "campaignType", int, "campaign"),
        )


@dataclass(frozen=True, slots=True)
class StatusMessage:
    """A selectable user status (``status/status-messages``)."""

    status_id: str
    message_text: str
    is_selectable: bool = True
    is_acd: bool = False

    @classmethod
    def from_json(cls, obj: Any) -> StatusMessage:
        status_id = _require(obj, "statusId", str, "statusMessage")
        return cls(
            status_id=status_id,
            message_text=_optional(obj, "messageText", str, "statusMessage", status_id),
            is_selectable=_optional(obj, "isSelectableStatus", bool, "statusMessage", True),
            is_acd=_optional(obj, "isAcdStatus", bool, "statusMessage", False),
        )


@dataclass(frozen=True, slots=True)
class UserStatus:
    """One user's presence (``status/user-statuses/{userId}`` or a ``userStatusMessage`` entry)."""

    user_id: str
    status_id: str
    logged_in: bool = False
    on_phone: bool = False
    status_changed: dt.datetime | None = None
    notes: str = ""

    @classmethod
    def from_json(cls, obj: Any) -> UserStatus:
        where = "userStatus"
        return cls(
            user_id=_require(obj, "userId", str, where),
            status_id=_require(obj, "statusId", str, where),
            logged_in=_optional(obj, "loggedIn", bool, where, False),
            on_phone=_optional(obj, "onPhone", bool, where, False),
            status_changed=parse_icws_time(_optional(obj, "statusChanged", str, where)),
            notes=_optional(obj, "notes", str, where, ""),
        )


@dataclass(frozen=True, slots=True)
class SwitchoverStatus:
    """``GET /icws/{sessionId}/connection/switchover-status`` (connection 11, REF 2.6)."""

    active: bool  # isSwitchoverActive
    primary_host: str
    backup_host: str = ""

    @classmethod
    def from_json(cls, obj: Any) -> SwitchoverStatus:
        where = "switchoverStatus"
        return cls(
            active=_require(obj, "isSwitchoverActive", bool, where),
            primary_host=_require(obj, "primaryHost", str, where),
            backup_host=_optional(obj, "backupHost", str, where, "") or "",
        )
