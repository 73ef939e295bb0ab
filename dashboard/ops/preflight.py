"""The operator's read-only preflight against a CIC server (``manage.py icws_check``).

Each check gives lines OK / WARN / FAIL with what to fix. Nothing here writes to CIC: it
connects, reads features, the service account's own configuration, workgroups, campaign ACLs
and the message queue, and logs out; with a test user (``ICWS_CHECK_USER``), it signs in as that
user the way CIC sign-in does and logs out. What the public record leaves unconfirmed (REF 10) is a
WARN saying what to check by hand, never an OK.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from icws_client import IcwsClient, IcwsError
from icws_client.client import UserAccess

OK, WARN, FAIL = "OK", "WARN", "FAIL"
MIN_DIALER = 7  # allocate-agents (REF 3)


@dataclass(frozen=True)
class Line:
    level: str
    check: str
    text: str

    def __str__(self) -> str:
        return f"{self.level:<4}  {self.check}: {self.text}"


@dataclass(frozen=True)
class SignInCheck:
    """CIC sign-in as a test user: ``connect(user, password)`` gives a client for the user,
    ``map_roles(access)`` the dashboard roles and whether an agent (``accounts.cic_signin``)."""

    mode: str  # DASHBOARD_AUTH
    user: str
    password: str
    connect: Callable[[str, str], IcwsClient]
    map_roles: Callable[[UserAccess], tuple[set[str], bool]]


def run_checks(
    client: IcwsClient,
    agent_workgroups: list[str],
    allowed_hosts: list[str],
    sign_in: SignInCheck | None = None,
) -> list[Line]:
    sign_in_lines = _sign_in(sign_in) if sign_in is not None else []
    try:
        conn = client.connect()
    except IcwsError as exc:
        return [
            Line(FAIL, "connect", f"{exc}. Check ICWS_BASE_URL, ICWS_USER, ICWS_PASSWORD."),
            *sign_in_lines,
        ]
    lines = [Line(OK, "connect", f"as {conn.user_id or '?'} on {conn.ic_server or '?'}")]
    lines += _features(client)
    lines += _rights(client, conn.user_id)
    lines += _workgroups(client, agent_workgroups)
    lines += _campaigns(client)
    lines += _messaging(client)
    lines += _alternates(list(conn.alternate_hosts), allowed_hosts)
    return lines + sign_in_lines


def _sign_in(check: SignInCheck) -> list[Line]:
    """Whether CIC sign-in (DASHBOARD_AUTH=cic|both) can work: connect as the test user and map
    the roles CIC shows it, exactly as the sign-in form would; then log out."""
    name = "CIC sign-in"
    if not check.user or not check.password:
        if check.mode == "local":
            return [Line(OK, name, "off (DASHBOARD_AUTH=local)")]
        return [
            Line(
                WARN,
                name,
                f"DASHBOARD_AUTH={check.mode} but not tested: set ICWS_CHECK_USER and "
                "ICWS_CHECK_PASSWORD to a CIC test user to check it",
            )
        ]
    try:
        user_client = check.connect(check.user, check.password)
        conn = user_client.connect()
    except IcwsError as exc:
        return [Line(FAIL, name, f"connect as {check.user!r} failed: {exc}")]
    try:
        try:
            access = user_client.get_user_access(conn.user_id or check.user)
        except IcwsError as exc:
            return [
                Line(
                    WARN,
                    name,
                    f"{check.user!r} connects, but CIC would not show it its own roles and "
                    f"workgroups ({exc}): only agents known to the directory could sign in",
                )
            ]
        roles, is_agent = check.map_roles(access)
    finally:
        user_client.close()
    held = f"CIC roles {list(access.role_names)}, workgroups {list(access.workgroup_names)}"
    what = sorted(roles) + (["agent"] if is_agent else [])
    if not what:
        return [
            Line(
                WARN,
                name,
                f"{check.user!r} connects but gets no dashboard role ({held}); check "
                "CIC_SUPERVISOR_ROLES, CIC_AUDITOR_ROLES, CIC_ADMIN_ROLES",
            )
        ]
    off = " (DASHBOARD_AUTH=local: sign-in with CIC is off)" if check.mode == "local" else ""
    return [Line(OK, name, f"{check.user!r} signs in as {', '.join(what)} ({held}){off}")]


def _features(client: IcwsClient) -> list[Line]:
    try:
        versions = {f.feature_id: f.version for f in client.features()}
    except IcwsError as exc:
        return [Line(FAIL, "features", f"could not read them: {exc}")]
    dialer, messaging = versions.get("dialer"), versions.get("messaging")
    out = []
    if dialer is None or dialer < MIN_DIALER:
        out.append(
            Line(
                FAIL,
                "features",
                f"dialer {dialer}; moves need dialer >= {MIN_DIALER} (CIC 2018 R1+)",
            )
        )
    else:
        out.append(Line(OK, "features", f"dialer {dialer}"))
    if messaging is None:
        out.append(Line(FAIL, "features", "no messaging feature: presence cannot be followed"))
    elif messaging < 2:
        out.append(
            Line(WARN, "features", f"messaging {messaging}: no SSE, the listener short-polls")
        )
    else:
        out.append(Line(OK, "features", f"messaging {messaging} (server-sent events)"))
    return out


def _rights(client: IcwsClient, user_id: str) -> list[Line]:
    licence_hint = (
        "check by hand in Interaction Administrator that the service account (a user with no "
        "station) has a Dialer Add-on licence: the 403 text names the agent or the station, "
        "and whether a station-less account needs its own is unconfirmed (REF 10)"
    )
    try:
        # the client has no method for this one read of the account's own rights
        reply = client._session_call(
            "GET",
            "/configuration/users/{id}",
            args={"id": user_id},
            params={"select": "licenseProperties,securityRights"},
        )
        body = reply.body
    except (IcwsError, ValueError) as exc:
        return [
            Line(
                WARN,
                "rights",
                f"could not read licenceProperties/securityRights ({exc}); " + licence_hint,
            )
        ]
    if not isinstance(body, dict) or "licenseProperties" not in body:
        return [Line(WARN, "rights", "the server gave no licenseProperties; " + licence_hint)]
    return [Line(WARN, "rights", "licenseProperties read; " + licence_hint)]


def _workgroups(client: IcwsClient, named: list[str]) -> list[Line]:
    if not named:
        return [
            Line(
                FAIL,
                "agent workgroups",
                "ICWS_AGENT_WORKGROUPS is empty: set it to the "
                "comma list of CIC workgroups whose members are the agents",
            )
        ]
    try:
        groups = {w.id: w for w in client.list_workgroups()}
    except IcwsError as exc:
        return [Line(FAIL, "agent workgroups", f"could not list workgroups: {exc}")]
    out = []
    for name in named:
        group = groups.get(name)
        if group is None:
            out.append(
                Line(
                    FAIL,
                    "agent workgroups",
                    f"{name!r} does not exist on CIC; fix "
                    "ICWS_AGENT_WORKGROUPS (workgroup ids are case-sensitive)",
                )
            )
        elif not group.members:
            out.append(Line(FAIL, "agent workgroups", f"{name!r} has no members"))
        else:
            out.append(Line(OK, "agent workgroups", f"{name!r}: {len(group.members)} members"))
    return out


def _campaigns(client: IcwsClient) -> list[Line]:
    try:
        acls = client.list_campaigns()
    except IcwsError as exc:
        return [Line(FAIL, "campaigns", f"could not list campaign ACLs: {exc}")]
    if not acls:
        return [
            Line(
                FAIL,
                "campaigns",
                "no campaign ACLs visible to the service account; "
                "grant it view rights on the Dialer campaigns",
            )
        ]
    return [
        Line(OK, "campaigns", f"{len(acls)} campaign ACLs"),
        Line(
            WARN,
            "campaigns",
            "that an ACL's id is the Dialer campaign id allocate-agents "
            "takes is unconfirmed (REF 10): move one test agent and check it in Dialer Manager",
        ),
    ]


def _messaging(client: IcwsClient) -> list[Line]:
    try:
        client.poll_messages()
    except IcwsError as exc:
        return [Line(FAIL, "messaging", f"reading the message queue failed: {exc}")]
    return [Line(OK, "messaging", "the message queue answers")]


def _alternates(offered: list[str], allowed: list[str]) -> list[Line]:
    if not offered:
        return [Line(WARN, "alternate hosts", "the server offered none: no switchover peer")]
    unlisted = [h for h in offered if h not in allowed]
    if unlisted:
        return [
            Line(
                WARN,
                "alternate hosts",
                f"offered {offered}; not in ICWS_ALTERNATE_HOSTS: "
                f"{unlisted} (failover will refuse them; list the ones you trust)",
            )
        ]
    return [Line(OK, "alternate hosts", f"offered {offered}, all in ICWS_ALTERNATE_HOSTS")]
