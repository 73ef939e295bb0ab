"""Seeds: the world the simulator starts from (and returns to on reset).

A seed is a JSON object; ``load_seed`` reads and checks one, ``default_seed`` is the realistic demo
world, ``generate_seed`` builds large worlds of the same shape for benchmarks. The format is
described in the package docstring.
"""

from __future__ import annotations

import json
import os
import random
import unicodedata
from pathlib import Path
from typing import Any

DEFAULT_SERVICE_USER = "svc_dashboard"
DEFAULT_SERVICE_PASSWORD = "svc-dashboard-demo"  # the documented demo default

SUPERVISOR_ID = "sup.morgan"
SUPERVISOR_PASSWORD = "supervisor-demo"  # the documented demo default
SUPERVISORS_WORKGROUP = "Supervisors"
# CIC sign-in (issue 19): every default-seed agent signs in with this, the auditor with its own.
AGENT_PASSWORD = "agent-demo"  # the documented demo default
AUDITOR_ID = "qa.quinn"
AUDITOR_PASSWORD = "auditor-demo"  # the documented demo default

STATUS_TYPES = {1: "on", 2: "off", 4: "schedule-only", 8: "auto", 16: "paused", 32: "completed"}
CAMPAIGN_TYPES = {1, 2, 3, 8}  # Predictive, Power, Preview, Agentless

# (statusId, icon, isAcdStatus, groupTag)
_STATUSES = [
    ("Available", "available", True, "Available"),
    ("Available - Follow-up", "available", True, "Available"),
    ("Follow Up", "followup", False, "Available"),
    ("Away from desk", "away", False, "Away"),
    ("At Lunch", "lunch", False, "Away"),
    ("In a Meeting", "meeting", False, "Away"),
    ("Do Not Disturb", "dnd", False, "DoNotDisturb"),
    ("Gone Home", "gonehome", False, "Offline"),
]
STATUS_MESSAGES: list[dict[str, Any]] = [
    {
        "statusId": sid,
        "messageText": sid,
        "iconUri": f"/icws/status/icons/{icon}.png",
        "isSelectableStatus": True,
        "isAcdStatus": acd,
        "groupTag": tag,
    }
    for sid, icon, acd, tag in _STATUSES
]

AGENT_NAMES = [
    "Siobhán O'Neill", "José Álvarez", "Amelia Clarke", "Kwame Mensah", "Priya Raman",
    "Lukas Schäfer", "Mei Lin Zhou", "Oluwaseun Adeyemi", "Ingrid Johansson", "Mateo Fernández",
    "Chloé Dubois", "Hiroshi Tanaka", "Fatima El Idrissi", "Liam Murphy", "Aisha Bello",
    "Noah Becker", "Sofía Ramírez", "Ravi Patel", "Emma Wilson", "Dmitri Volkov",
    "Yuki Sato", "Aoife Byrne", "Carlos Mendoza", "Nadia Haddad", "Oliver Bennett",
    "Zanele Dlamini", "Tomás Ó Briain", "Grace Okafor", "Henrik Nielsen", "Léa Moreau",
    "Arjun Mehta", "Isabella Rossi", "Jakub Nowak", "Maria João Silva", "Ethan Brooks",
    "Leila Karimi", "Seán D'Arcy", "Hannah Fischer", "Diego Torres", "Ngozi Eze",
    "Björn Larsson", "Camille Laurent", "Mohammed Al-Farsi", "Ana Kovačević", "Daniel Cohen",
    "Keiko Yamamoto", "Patrick O'Brien", "Lucía Navarro", "Samuel Asante", "Eva Novák",
    "Rahul Nair", "Charlotte Evans", "Andrés Castillo", "Yasmin Farouk", "Finn Gallagher",
    "Marta Kowalska", "Joshua Reid", "Thandiwe Nkosi", "Stefan Popescu", "Ji-woo Park",
]  # fmt: skip
SPANISH_SPEAKERS = {
    "José Álvarez", "Mateo Fernández", "Sofía Ramírez", "Carlos Mendoza", "Diego Torres",
    "Lucía Navarro", "Andrés Castillo", "Maria João Silva",
}  # fmt: skip

DIALER_WORKGROUPS = ["Sales Outbound", "Renewals", "Collections", "Customer Care", "Spanish Line"]

# (name, workgroup, status flags, campaignType)
DEFAULT_CAMPAIGNS = [
    ("Spring Upsell", "Sales Outbound", [1], 1),
    ("Lapsed Customers Win-back", "Sales Outbound", [2], 2),
    ("Policy Renewals Q3", "Renewals", [1], 1),
    ("Renewal Reminders", "Renewals", [4], 3),
    ("Early Arrears", "Collections", [1], 2),
    ("Late Arrears", "Collections", [16], 3),
    ("Satisfaction Survey", "Customer Care", [32], 8),
    ("Campaña Renovaciones", "Spanish Line", [1], 1),
]

FIRST_NAMES = [
    "Ada", "Bruno", "Chiara", "Dev", "Elif", "Femi", "Greta", "Hugo", "Inès", "Jonas", "Kai",
    "Lina", "Marco", "Nia", "Oskar", "Paula", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Viktor",
    "Wen", "Ximena", "Yusuf", "Zoë", "Aurélie", "Bogdan", "Ciarán", "Dagný",
]  # fmt: skip
LAST_NAMES = [
    "Abara", "Berg", "Costa", "Dąbrowski", "Ekström", "Fonseca", "García", "Huang", "Ivanova",
    "Jensen", "Kaya", "López", "Müller", "Nakamura", "O'Connor", "Pereira", "Quispe", "Reyes",
    "Søndergaard", "Tremblay", "Uddin", "Varga", "Weber", "Xu", "Yilmaz", "Zielińska",
]  # fmt: skip


def service_credentials() -> tuple[str, str]:
    """The service account from ``ICWS_USER`` / ``ICWS_PASSWORD`` (or ``ICWS_PASSWORD_FILE``)."""
    user = os.environ.get("ICWS_USER") or DEFAULT_SERVICE_USER
    password = os.environ.get("ICWS_PASSWORD")
    if not password and os.environ.get("ICWS_PASSWORD_FILE"):
        password = Path(os.environ["ICWS_PASSWORD_FILE"]).read_text(encoding="utf-8").strip()
    return user, password or DEFAULT_SERVICE_PASSWORD


def _user_id(name: str, taken: set[str]) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = folded.split()
    last = "".join(ch for ch in "".join(words[1:]) if ch.isalnum())
    base = f"{words[0][0]}.{last}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    taken.add(candidate)
    return candidate


def _guid(rng: random.Random) -> str:
    hex_ = f"{rng.getrandbits(128):032X}"
    return f"{{{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}}}"


def _presence(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.12:
        return {"statusId": "Gone Home", "loggedIn": False, "onPhone": False}
    status = rng.choices(
        ["Available", "Follow Up", "Away from desk", "At Lunch", "In a Meeting", "Do Not Disturb"],
        weights=[60, 10, 10, 8, 7, 5],
    )[0]
    on_phone = status in ("Available", "Follow Up") and rng.random() < 0.35
    return {"statusId": status, "loggedIn": True, "onPhone": on_phone}


def _workgroup(name: str, has_queue: bool = True) -> dict[str, Any]:
    return {"id": name, "displayName": name, "hasQueue": has_queue, "isActive": True}


def _staff(service_user: str) -> list[dict[str, Any]]:
    """The supervisor and the service account: users in no dialer workgroup."""
    return [
        {
            "id": SUPERVISOR_ID,
            "displayName": "Dana Morgan",
            "extension": "4001",
            "workgroups": [SUPERVISORS_WORKGROUP],
            "roles": ["Supervisor"],
            "password": SUPERVISOR_PASSWORD,
            "status": {"statusId": "Available", "loggedIn": True, "onPhone": False},
        },
        {
            "id": AUDITOR_ID,
            "displayName": "Riley Quinn",
            "extension": "4002",
            "workgroups": [],
            "roles": ["Quality Auditor"],
            "password": AUDITOR_PASSWORD,
            "status": {"statusId": "Available", "loggedIn": True, "onPhone": False},
        },
        {
            "id": service_user,
            "displayName": "Dashboard Service Account",
            "extension": "",
            "workgroups": [],
            "roles": ["Administrator"],
            "status": {"statusId": "Available", "loggedIn": False, "onPhone": False},
        },
    ]


def _initial_membership(
    rng: random.Random, users: list[dict[str, Any]], campaigns: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """Most agents of running campaigns in one of them, a few in two, some in none."""
    running: dict[str, list[str]] = {}
    for campaign in campaigns:
        if 1 in campaign["status"]:
            running.setdefault(campaign["workgroup"], []).append(campaign["id"])
    membership: dict[str, list[str]] = {}
    for user in users:
        eligible = [c for wg in user["workgroups"] for c in running.get(wg, [])]
        roll = rng.random()
        if not eligible or roll < 0.15:
            chosen: list[str] = []
        elif roll < 0.25 and len(eligible) > 1:
            chosen = rng.sample(eligible, 2)
        else:
            chosen = [eligible[0] if rng.random() < 0.7 else rng.choice(eligible)]
        membership[user["id"]] = chosen
    return membership


def default_seed() -> dict[str, Any]:
    """The deterministic demo world: 60 agents, 6 workgroups, 8 campaigns in varied states."""
    rng = random.Random(20240611)
    service_user, _ = service_credentials()
    workgroups = [_workgroup(name) for name in DIALER_WORKGROUPS]
    workgroups.append(_workgroup(SUPERVISORS_WORKGROUP, has_queue=False))
    taken = {SUPERVISOR_ID, service_user}
    general = [wg for wg in DIALER_WORKGROUPS if wg != "Spanish Line"]
    agents = []
    for index, name in enumerate(AGENT_NAMES):
        if name in SPANISH_SPEAKERS:
            groups = ["Spanish Line", rng.choice(general)]
        else:
            groups = [general[index % len(general)]]
            if rng.random() < 0.3:
                groups.append(rng.choice([wg for wg in general if wg != groups[0]]))
        agents.append(
            {
                "id": _user_id(name, taken),
                "displayName": name,
                "extension": str(4101 + index),
                "workgroups": groups,
                "roles": ["Agent"],
                "password": AGENT_PASSWORD,
                "status": _presence(rng),
            }
        )
    campaigns = [
        {"id": _guid(rng), "name": name, "workgroup": wg, "status": status, "campaignType": kind}
        for name, wg, status, kind in DEFAULT_CAMPAIGNS
    ]
    return {
        "icServer": "cic1",
        "workgroups": workgroups,
        "users": agents + _staff(service_user),
        "campaigns": campaigns,
        "membership": _initial_membership(rng, agents, campaigns),
        "statusMessages": [dict(m) for m in STATUS_MESSAGES],
    }


def generate_seed(agents: int = 5000, campaigns: int = 200, rng_seed: int = 1) -> dict[str, Any]:
    """A large world of the default seed's shape, for benchmarks (deterministic per rng_seed)."""
    if agents < 1 or campaigns < 1:
        raise ValueError("generate_seed needs at least one agent and one campaign")
    rng = random.Random(rng_seed)
    service_user, _ = service_credentials()
    group_count = max(2, min(campaigns, agents, campaigns // 4 + 1))
    group_names = [f"Dialer Team {n:03d}" for n in range(1, group_count + 1)]
    workgroups = [_workgroup(name) for name in group_names]
    workgroups.append(_workgroup(SUPERVISORS_WORKGROUP, has_queue=False))
    flags = [[1]] * 6 + [[2], [4], [16], [32]]
    campaign_list = []
    for n in range(campaigns):
        wg = group_names[n % group_count]
        status = [1] if n < group_count else rng.choice(flags)  # every team has a running one
        campaign_list.append(
            {
                "id": _guid(rng),
                "name": f"Campaign {n + 1:04d} ({wg})",
                "workgroup": wg,
                "status": list(status),
                "campaignType": rng.choice([1, 1, 2, 3]),
            }
        )
    users = []
    for n in range(agents):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        groups = [group_names[n % group_count]]
        if group_count > 1 and rng.random() < 0.2:
            groups.append(rng.choice([g for g in group_names if g != groups[0]]))
        users.append(
            {
                "id": f"agent.{n + 1:05d}",
                "displayName": f"{first} {last}",
                "extension": str(100000 + n),
                "workgroups": groups,
                "roles": ["Agent"],
                "status": _presence(rng),
            }
        )
    return {
        "icServer": "cic1",
        "workgroups": workgroups,
        "users": users + _staff(service_user),
        "campaigns": campaign_list,
        "membership": _initial_membership(rng, users, campaign_list),
        "statusMessages": [dict(m) for m in STATUS_MESSAGES],
    }


def load_seed(source: str | os.PathLike[str] | dict[str, Any]) -> dict[str, Any]:
    """Read a seed file (or take a dict), check it, and return it. Raises ``ValueError``."""
    if isinstance(source, dict):
        seed = json.loads(json.dumps(source))
        where = "seed"
    else:
        where = str(source)
        try:
            seed = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{where}: cannot read seed: {exc}") from exc
    check_seed(seed, where)
    return seed


def _fail(where: str, message: str) -> None:
    raise ValueError(f"{where}: {message}")


def _str_list(value: Any, where: str, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        _fail(where, f"{name} must be a list of non-empty strings")
    return value


def check_seed(seed: Any, where: str = "seed") -> None:
    """Check the seed's shape and its references; the message names the first problem."""
    if not isinstance(seed, dict):
        _fail(where, "a seed must be a JSON object")
    allowed = {"icServer", "workgroups", "users", "campaigns", "membership", "statusMessages"}
    for key in seed:
        if key not in allowed:
            _fail(where, f"unknown top-level key {key!r}")
    if not isinstance(seed.get("icServer", "cic1"), str):
        _fail(where, "icServer must be a string")
    for key in ("workgroups", "users", "campaigns"):
        if not isinstance(seed.get(key), list):
            _fail(where, f"{key} must be a list")
    messages = seed.get("statusMessages", STATUS_MESSAGES)
    if not isinstance(messages, list) or not messages:
        _fail(where, "statusMessages must be a non-empty list")
    status_ids = set()
    for n, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("statusId"), str):
            _fail(where, f"statusMessages[{n}] needs a string statusId")
        status_ids.add(message["statusId"])

    groups = set()
    for n, wg in enumerate(seed["workgroups"]):
        if not isinstance(wg, dict) or not isinstance(wg.get("id"), str) or not wg["id"]:
            _fail(where, f"workgroups[{n}] needs a non-empty string id")
        if wg["id"] in groups:
            _fail(where, f"workgroup id {wg['id']!r} is repeated")
        for flag in ("hasQueue", "isActive"):
            if not isinstance(wg.get(flag, True), bool):
                _fail(where, f"workgroups[{n}].{flag} must be true or false")
        groups.add(wg["id"])

    users = set()
    for n, user in enumerate(seed["users"]):
        here = f"users[{n}]"
        if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
            _fail(where, f"{here} needs a non-empty string id")
        if user["id"] in users:
            _fail(where, f"user id {user['id']!r} is repeated")
        users.add(user["id"])
        for key in ("displayName", "extension", "password"):
            if key in user and not isinstance(user[key], str):
                _fail(where, f"{here}.{key} must be a string")
        for wg in _str_list(user.get("workgroups", []), where, f"{here}.workgroups"):
            if wg not in groups:
                _fail(where, f"{here} names unknown workgroup {wg!r}")
        _str_list(user.get("roles", []), where, f"{here}.roles")
        if not isinstance(user.get("logonCampaignRight", False), bool):
            _fail(where, f"{here}.logonCampaignRight must be true or false")
        status = user.get("status", {})
        if not isinstance(status, dict):
            _fail(where, f"{here}.status must be an object")
        if status.get("statusId", "Available") not in status_ids:
            _fail(where, f"{here}.status.statusId is not one of statusMessages")
        for flag in ("loggedIn", "onPhone"):
            if not isinstance(status.get(flag, False), bool):
                _fail(where, f"{here}.status.{flag} must be true or false")

    campaigns = set()
    for n, campaign in enumerate(seed["campaigns"]):
        here = f"campaigns[{n}]"
        if not isinstance(campaign, dict) or not isinstance(campaign.get("id"), str):
            _fail(where, f"{here} needs a string id")
        if not campaign["id"] or campaign["id"] in campaigns:
            _fail(where, f"{here} id {campaign['id']!r} is empty or repeated")
        campaigns.add(campaign["id"])
        if not isinstance(campaign.get("name"), str) or not campaign["name"]:
            _fail(where, f"{here} needs a non-empty string name")
        if campaign.get("workgroup") not in groups:
            _fail(where, f"{here} names unknown workgroup {campaign.get('workgroup')!r}")
        status = campaign.get("status")
        if not isinstance(status, list) or not all(s in STATUS_TYPES for s in status):
            _fail(where, f"{here}.status must be a list of {sorted(STATUS_TYPES)}")
        if campaign.get("campaignType", 1) not in CAMPAIGN_TYPES:
            _fail(where, f"{here}.campaignType must be one of {sorted(CAMPAIGN_TYPES)}")

    membership = seed.get("membership", {})
    if not isinstance(membership, dict):
        _fail(where, "membership must be an object of user id -> campaign ids")
    for user_id, ids in membership.items():
        if user_id not in users:
            _fail(where, f"membership names unknown user {user_id!r}")
        for campaign_id in _str_list(ids, where, f"membership[{user_id!r}]"):
            if campaign_id not in campaigns:
                _fail(where, f"membership[{user_id!r}] names unknown campaign {campaign_id!r}")
