"""Configuration list queries: ``select``, ``where``, ``orderBy``, ``rightsFilter``, ``Range``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ErrorAnswer, bad_request, invalid_property

MAX_ITEMS_WITH_SELECT = 200
RIGHTS_FILTERS = ("view", "admin", "loggedInUser")
OPERATORS = ("eq", "sw", "ct")
CID_FIELDS = ("id", "displayName", "uri")

# property -> kind: "cid" (configurationId object), "cids" (list of them), "scalar", "ints"
PROPERTIES: dict[str, dict[str, str]] = {
    "users": {
        "configurationId": "cid",
        "extension": "scalar",
        "workgroups": "cids",
        "roles": "cids",
        # securityRights.loginCampaign.effectiveValue is read on a user (REF 3.1, 10); the other
        # rights of the record are not served.
        "securityRights": "object",
        # A property the record names (REF 4.1) but never shows: a select of it is accepted
        # and, since no user has a value, it is omitted as null properties are (REF 4.1).
        "licenseProperties": "object",
    },
    "workgroups": {
        "configurationId": "cid",
        "members": "cids",
        "hasQueue": "scalar",
        "isActive": "scalar",
    },
    # The record's campaign ACL carries configurationId only (REF 10).
    "interaction-dialer-campaign-acls": {"configurationId": "cid"},
}
# With ``rich_campaigns`` (an option, off by default: REF 10 shows none of these on a real server).
RICH_CAMPAIGN_ACL_PROPERTIES: dict[str, str] = {
    "configurationId": "cid",
    "workgroup": "cid",
    "status": "ints",
    "campaignType": "scalar",
}


def properties_of(kind: str, rich_campaigns: bool = False) -> dict[str, str]:
    """The property table of one configuration kind (the rich ACLs only when asked for)."""
    if rich_campaigns and kind == "interaction-dialer-campaign-acls":
        return RICH_CAMPAIGN_ACL_PROPERTIES
    return PROPERTIES[kind]


_RANGE = re.compile(r"^\s*items\s*=\s*(\d{1,9})\s*-\s*(\d{1,9})\s*$")


@dataclass(frozen=True)
class Clause:
    path: tuple[str, ...]
    op: str
    value: str


def _param_error(message: str) -> ErrorAnswer:
    return bad_request(message, error_id="error.request.invalidParameter")


def parse_select(
    value: str | None, kind: str, props: dict[str, str] | None = None
) -> tuple[str, ...] | None:
    """The properties to return; None when ``select`` is absent (only configurationId)."""
    props = props if props is not None else PROPERTIES[kind]
    if value is None or not value.strip():
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if "*" in names:
        return tuple(props)
    for name in names:
        if name not in props:
            raise invalid_property(
                name, f"select: '{name}' is not a property of configuration/{kind}."
            )
    return tuple(dict.fromkeys(["configurationId", *names]))


def _parse_path(
    text: str, kind: str, param: str, props: dict[str, str], *, for_order: bool = False
) -> tuple[str, ...]:
    parts = tuple(text.split("."))
    prop_kind = props.get(parts[0])
    if prop_kind is None:
        raise invalid_property(
            parts[0], f"{param}: '{parts[0]}' is not a property of configuration/{kind}."
        )
    if len(parts) > 2 or (
        len(parts) == 2 and (prop_kind not in ("cid", "cids") or parts[1] not in CID_FIELDS)
    ):
        raise invalid_property(text, f"{param}: '{text}' is not a property path of {kind}.")
    if for_order and prop_kind in ("cids", "ints"):
        raise invalid_property(text, f"{param}: cannot order by the list property '{parts[0]}'.")
    return parts


def parse_where(value: str | None, kind: str, props: dict[str, str] | None = None) -> list[Clause]:
    props = props if props is not None else PROPERTIES[kind]
    if value is None or not value.strip():
        return []
    clauses = []
    for raw in value.split(","):
        parts = raw.strip().split(" ", 2)
        if len(parts) < 3 or not parts[0] or parts[1] not in OPERATORS:
            raise _param_error(
                f"where: clause '{raw.strip()}' must look like '<property> <eq|sw|ct> <value>'.",
            )
        clauses.append(Clause(_parse_path(parts[0], kind, "where", props), parts[1], parts[2]))
    return clauses


def parse_order(
    value: str | None, kind: str, props: dict[str, str] | None = None
) -> tuple[tuple[str, ...], bool]:
    props = props if props is not None else PROPERTIES[kind]
    if value is None or not value.strip():
        return ("configurationId", "displayName"), False
    parts = value.split()
    if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
        raise _param_error("orderBy must look like '<property>' or '<property> desc'.")
    path = _parse_path(parts[0], kind, "orderBy", props, for_order=True)
    return path, len(parts) == 2 and parts[1].lower() == "desc"


def check_rights_filter(value: str | None) -> None:
    if value is not None and value.lower() not in {r.lower() for r in RIGHTS_FILTERS}:
        raise _param_error(f"rightsFilter must be one of {', '.join(RIGHTS_FILTERS)}.")


def parse_range(header: str | None) -> tuple[int, int] | None:
    if header is None:
        return None
    match = _RANGE.match(header)
    if not match or int(match.group(1)) > int(match.group(2)):
        raise bad_request(
            "The Range header must look like 'items=<first>-<last>' with first <= last.",
            error_id="error.request.invalidHeader",
        )
    return int(match.group(1)), int(match.group(2))


def leaves(item: dict[str, Any], path: tuple[str, ...]) -> list[Any]:
    """Values at ``path``; a list contributes each element; an object stands for its id."""
    values: list[Any] = [item]
    for part in path:
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, dict):
                value = value.get(part)
                nxt.extend(value if isinstance(value, list) else [value])
        values = nxt
    return [v.get("id") if isinstance(v, dict) else v for v in values if v is not None]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).casefold()


def matches(item: dict[str, Any], clause: Clause) -> bool:
    target = clause.value.casefold()
    for value in leaves(item, clause.path):
        text = _text(value)
        if (
            (clause.op == "eq" and text == target)
            or (clause.op == "sw" and text.startswith(target))
            or (clause.op == "ct" and target in text)
        ):
            return True
    return False


def _sort_key(item: dict[str, Any], path: tuple[str, ...]) -> tuple:
    values = leaves(item, path)
    value = values[0] if values else None
    ident = item["configurationId"]["id"].casefold()
    if value is None:
        return (0, 0, "", ident)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, value, "", ident)
    return (1, 0, _text(value), ident)


def project(item: dict[str, Any], select: tuple[str, ...] | None) -> dict[str, Any]:
    names = select or ("configurationId",)
    return {name: item[name] for name in names if item.get(name) is not None}


@dataclass
class ListResult:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def run_list(
    items: list[dict[str, Any]],
    kind: str,
    params: dict[str, str],
    range_header: str | None,
    props: dict[str, str] | None = None,
) -> ListResult:
    """Answer ``GET configuration/{kind}`` over ``items`` (see the package docstring)."""
    select = parse_select(params.get("select"), kind, props)
    clauses = parse_where(params.get("where"), kind, props)
    order_path, descending = parse_order(params.get("orderBy"), kind, props)
    check_rights_filter(params.get("rightsFilter"))
    wanted = parse_range(range_header)

    found = [item for item in items if all(matches(item, c) for c in clauses)]
    found.sort(key=lambda item: _sort_key(item, order_path), reverse=descending)
    total = len(found)
    first, end = 0, total
    if wanted is not None:
        first, end = wanted[0], min(wanted[1] + 1, total)
        if first >= total and total > 0:
            raise ErrorAnswer(
                416,
                "error.request.rangeNotSatisfiable",
                f"The Range starts at item {first} but there are only {total} items.",
                headers={"Content-Range": f"items */{total}"},
            )
    if select is not None:
        end = min(end, first + MAX_ITEMS_WITH_SELECT)
    headers: dict[str, str] = {}
    sliced = wanted is not None or (first, end) != (0, total)
    if sliced:
        shown = f"{first}-{end - 1}" if end > first else "*"
        headers["Content-Range"] = f"items {shown}/{total}"
    status = 206 if sliced and end - first < total else 200
    return ListResult(
        status, {"items": [project(item, select) for item in found[first:end]]}, headers
    )


def find_one(
    items: list[dict[str, Any]],
    kind: str,
    ident: str,
    params: dict[str, str],
    props: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    select = parse_select(params.get("select"), kind, props)
    check_rights_filter(params.get("rightsFilter"))
    for item in items:
        if item["configurationId"]["id"] == ident:
            return project(item, select)
    return None
