"""The simulated world: directory (users, workgroups, campaigns), membership, presence, moves.

All reads and writes go through ``World`` methods, which hold one lock; the configuration items
(users, workgroups, campaign ACLs) never change after loading and are built once.
"""

from __future__ import annotations

import copy
import threading
import time
from datetime import UTC, datetime
from typing import Any

from .seed import STATUS_MESSAGES

# campaignStatusType -> state word; the first flag present in this order names the state.
STATE_PRECEDENCE = (
    (32, "completed"),
    (16, "paused"),
    (2, "off"),
    (4, "schedule-only"),
    (8, "auto"),
    (1, "on"),
)

USER_STATUS_PROPERTIES = (
    "userId",
    "statusId",
    "notes",
    "onPhone",
    "onPhoneChanged",
    "statusChanged",
    "loggedIn",
    "stations",
    "icServers",
)


USER_STATUS_MESSAGE = "urn:inin.com:status:userStatusMessage"


def filter_status(status: dict[str, Any], properties: tuple[str, ...] | None) -> dict[str, Any]:
    """A userStatus with only the subscribed properties (plus userId and statusId)."""
    if properties is None:
        return status
    keep = {"userId", "statusId", *properties}
    return {k: v for k, v in status.items() if k in keep}


def icws_time(epoch: float) -> str:
    """Compact ISO-8601 UTC, as ICWS writes date-times (REF 1)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y%m%dT%H%M%SZ")


def campaign_state(status: list[int]) -> str:
    for flag, word in STATE_PRECEDENCE:
        if flag in status:
            return word
    return "unknown"


def config_id(kind: str, ident: str, display_name: str) -> dict[str, str]:
    return {"id": ident, "displayName": display_name, "uri": f"/configuration/{kind}/{ident}"}


class World:
    """Thread-safe state loaded from a seed (see ``seed.py``)."""

    def __init__(
        self, seed: dict[str, Any], service_user: str, *, rich_campaigns: bool = False
    ) -> None:
        # rich_campaigns: the ACLs also carry workgroup/status/campaignType, which the record
        # does not show (REF 10); an explicit option for tests, off by default.
        self.rich_campaigns = rich_campaigns
        self.lock = threading.RLock()
        self.generation = 0
        self.load(seed, service_user)

    def load(self, seed: dict[str, Any], service_user: str) -> None:
        seed = copy.deepcopy(seed)
        now = time.time()
        with self.lock:
            self.generation += 1
            self.ic_server: str = seed.get("icServer", "cic1")
            self.workgroups = {wg["id"]: wg for wg in seed["workgroups"]}
            self.users = {u["id"]: u for u in seed["users"]}
            if service_user not in self.users:
                self.users[service_user] = {
                    "id": service_user,
                    "displayName": "Dashboard Service Account",
                    "roles": ["Administrator"],
                }
            self.campaigns = {c["id"]: c for c in seed["campaigns"]}
            self.status_messages = seed.get("statusMessages") or copy.deepcopy(STATUS_MESSAGES)
            self.status_ids = {m["statusId"] for m in self.status_messages}
            campaign_groups = {c["workgroup"] for c in self.campaigns.values()}
            self.agent_ids = [
                uid
                for uid, user in self.users.items()
                if campaign_groups.intersection(user.get("workgroups", []))
            ]
            self.membership: dict[str, list[str]] = {uid: [] for uid in self.agent_ids}
            for uid, ids in seed.get("membership", {}).items():
                self.membership[uid] = list(dict.fromkeys(ids))
            self.presence: dict[str, dict[str, Any]] = {}
            for index, (uid, user) in enumerate(self.users.items()):
                status = user.get("status", {})
                since = now - 60 - (index * 137) % 7200
                self.presence[uid] = {
                    "statusId": status.get("statusId", "Available"),
                    "loggedIn": status.get("loggedIn", False),
                    "onPhone": status.get("onPhone", False),
                    "notes": "",
                    "statusChanged": since,
                    "onPhoneChanged": since + (index * 53) % 60,
                }
            self.moves: list[dict[str, Any]] = []
            self._build_items()

    def _build_items(self) -> None:
        members: dict[str, list[dict[str, str]]] = {wg: [] for wg in self.workgroups}
        self.user_items: list[dict[str, Any]] = []
        for uid, user in self.users.items():
            cid = config_id("users", uid, user.get("displayName") or uid)
            groups = [
                config_id("workgroups", wg, self.workgroups[wg].get("displayName") or wg)
                for wg in user.get("workgroups", [])
            ]
            for wg in user.get("workgroups", []):
                members[wg].append(cid)
            self.user_items.append(
                {
                    "configurationId": cid,
                    "extension": user.get("extension", ""),
                    "workgroups": groups,
                    "roles": [config_id("roles", r, r) for r in user.get("roles", [])],
                    "securityRights": {
                        "loginCampaign": {"effectiveValue": bool(user.get("logonCampaignRight"))}
                    },
                }
            )
        self.workgroup_items = [
            {
                "configurationId": config_id("workgroups", wid, wg.get("displayName") or wid),
                "members": members[wid],
                "hasQueue": wg.get("hasQueue", True),
                "isActive": wg.get("isActive", True),
            }
            for wid, wg in self.workgroups.items()
        ]
        self.campaign_items = [
            {"configurationId": config_id("interaction-dialer-campaign-acls", cid, c["name"])}
            for cid, c in self.campaigns.items()
        ]
        if self.rich_campaigns:
            self.campaign_items = self._rich_campaign_items()
        self.items_by_kind = {
            "users": self.user_items,
            "workgroups": self.workgroup_items,
            "interaction-dialer-campaign-acls": self.campaign_items,
        }

    def _rich_campaign_items(self) -> list[dict[str, Any]]:
        return [
            {
                "configurationId": config_id("interaction-dialer-campaign-acls", cid, c["name"]),
                "workgroup": config_id(
                    "workgroups",
                    c["workgroup"],
                    self.workgroups[c["workgroup"]].get("displayName") or c["workgroup"],
                ),
                "status": list(c["status"]),
                "campaignType": c.get("campaignType", 1),
            }
            for cid, c in self.campaigns.items()
        ]

    # -- presence ---------------------------------------------------------------------------

    def user_status(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            p = self.presence.get(user_id)
            if p is None:
                return None
            user = self.users[user_id]
            logged_in = p["loggedIn"]
            station = f"Station-{user.get('extension') or user_id}"
            return {
                "userId": user_id,
                "statusId": p["statusId"],
                "notes": p["notes"],
                "onPhone": p["onPhone"],
                "onPhoneChanged": icws_time(p["onPhoneChanged"]),
                "statusChanged": icws_time(p["statusChanged"]),
                "loggedIn": logged_in,
                "stations": [station] if logged_in else [],
                "icServers": [self.ic_server] if logged_in else [],
            }

    def set_user_status(
        self,
        user_id: str,
        status_id: str,
        on_phone: bool | None = None,
        logged_in: bool | None = None,
    ) -> dict[str, Any]:
        now = time.time()
        with self.lock:
            p = self.presence[user_id]
            if status_id != p["statusId"]:
                p["statusId"] = status_id
                p["statusChanged"] = now
            if on_phone is not None and on_phone != p["onPhone"]:
                p["onPhone"] = on_phone
                p["onPhoneChanged"] = now
            if logged_in is not None:
                p["loggedIn"] = logged_in
            status = self.user_status(user_id)
            assert status is not None
            return status

    # -- dialer -----------------------------------------------------------------------------

    def apply_allocation(self, allocation: dict[str, Any], generation: int) -> dict | None:
        """Apply one accepted allocate-agents; None if the world was reset since it was accepted.

        For each agent the Out campaigns are removed, then the In campaigns added.
        """
        with self.lock:
            if generation != self.generation:
                return None
            outs = set(allocation["campaignIdsOut"])
            for agent in allocation["agentIds"]:
                current = [c for c in self.membership.get(agent, []) if c not in outs]
                current.extend(c for c in allocation["campaignIdsIn"] if c not in current)
                self.membership[agent] = current
            move = {
                "seq": len(self.moves) + 1,
                "acceptedAt": allocation["acceptedAt"],
                "appliedAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "userId": allocation["userId"],
                "userDisplayName": allocation["userDisplayName"],
                "agentIds": list(allocation["agentIds"]),
                "campaignIdsIn": list(allocation["campaignIdsIn"]),
                "campaignIdsOut": list(allocation["campaignIdsOut"]),
            }
            self.moves.append(move)
            return move

    # -- /sim views -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """``GET /sim/state``: campaigns with state words, dialer agents, membership."""
        with self.lock:
            agent_ids = list(self.agent_ids)
            agent_ids += [u for u, ids in self.membership.items() if ids and u not in agent_ids]
            return {
                "campaigns": [
                    {"id": cid, "name": c["name"], "state": campaign_state(c["status"])}
                    for cid, c in self.campaigns.items()
                ],
                "agents": [
                    {
                        "id": uid,
                        "name": self.users[uid].get("displayName") or uid,
                        "workgroups": list(self.users[uid].get("workgroups", [])),
                    }
                    for uid in agent_ids
                ],
                "membership": {uid: list(self.membership.get(uid, [])) for uid in agent_ids},
            }

    def move_log(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.moves)
