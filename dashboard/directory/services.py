"""Directory sync from ICWS, and roster imports (demo-only seeding lives in ``ops/demo.py``)."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Agent, Campaign, RosterEntry, SyncRun, Workgroup
from dashboard.directory.rights import read_logon_rights
from dashboard.directory.validate import EXTENSION_MAX, NAME_MAX, STATUS_MAX, clean_id, fit
from icws_client import IcwsError

log = logging.getLogger(__name__)


def directory_sync(*, client, agent_workgroups: list[str] | None = None) -> SyncRun:
    """Refresh workgroups, campaigns, agents and their presence from ICWS.

    Agents are the members of the CIC workgroups named in ``ICWS_AGENT_WORKGROUPS`` (from
    ``workgroups[].members`` and ``users[].workgroups``: the campaign list does not say, REF 10).
    Campaigns are the ACL list with ``displayName`` as name; their state and workgroup are kept
    as "unknown"/none unless ICWS gives them, and never overwrite what an admin recorded. Rows
    whose ids cannot be stored are skipped and counted. Agents and campaigns ICWS no longer lists
    are marked inactive, never deleted. A failed sync changes nothing and records why.
    After a sync that worked, the agents' Logon Campaign right is read (``rights.py``, bounded).
    """
    groups = set(settings.ICWS_AGENT_WORKGROUPS if agent_workgroups is None else agent_workgroups)
    run = SyncRun.objects.create()
    try:
        if not groups:
            raise ValueError("ICWS_AGENT_WORKGROUPS names no workgroup, so no agents are known")
        found = _read(client, groups)
        with transaction.atomic():
            _write(found)
            run.finished_at = timezone.now()
            run.ok = True
            run.agents = len(found.agents)
            run.campaigns = len(found.campaigns)
            run.skipped = found.skipped
            run.save()
    except (IcwsError, ValueError, DatabaseError) as exc:
        run.finished_at = timezone.now()
        run.error = fit(f"{type(exc).__name__}: {exc}", 2000)
        run.save()
        log.warning("Directory sync failed: %s", run.error)
        return run
    read_logon_rights(client=client, run=run)  # never fails the sync (rights.py)
    return run


@dataclass
class _Found:
    workgroups: dict[str, str]
    campaigns: list[Campaign]
    agents: list[Agent]
    agent_groups: dict[str, list[str]]
    skipped: int


def _read(client, groups: set[str]) -> _Found:
    skipped = 0
    workgroups: dict[str, str] = {}
    members: set[str] = set()
    for w in client.list_workgroups():
        wid = clean_id(w.id)
        if wid is None:
            skipped += 1
            continue
        workgroups[wid] = fit(w.display_name, NAME_MAX) or wid
        if wid in groups:
            members.update(m for m in w.members if clean_id(m))
    missing = sorted(groups - set(workgroups))
    if missing and len(missing) == len(groups):
        raise ValueError(f"ICWS_AGENT_WORKGROUPS names no workgroup CIC knows: {missing}")
    now = timezone.now()
    campaigns: list[Campaign] = []
    for c in client.list_campaigns():
        cid = clean_id(c.id)
        if cid is None:
            skipped += 1
            continue
        wg = clean_id(c.workgroup) if c.workgroup else None
        campaigns.append(
            Campaign(
                id=cid,
                name=fit(c.name, NAME_MAX) or cid,
                state=c.state if c.state in Campaign.State.values else Campaign.State.UNKNOWN,
                workgroup_id=wg if wg in workgroups else None,
                active=True,
                synced_at=now,
            )
        )
    users = []
    for u in client.list_users():
        uid = clean_id(u.id)
        if uid is None:
            skipped += 1 if groups.intersection(u.workgroups) else 0
            continue
        if uid in members or groups.intersection(u.workgroups):
            users.append((uid, u))
    statuses = client.get_user_statuses([uid for uid, _ in users]) if users else {}
    agents, agent_groups = [], {}
    for uid, u in users:
        st = statuses.get(uid)
        agents.append(
            Agent(
                id=uid,
                name=fit(u.display_name, NAME_MAX) or uid,
                extension=fit(u.extension, EXTENSION_MAX),
                active=True,
                synced_at=now,
                status_id=fit(st.status_id, STATUS_MAX) if st else "",
                logged_in=bool(st.logged_in) if st else False,
                on_phone=bool(st.on_phone) if st else False,
                status_changed=st.status_changed if st else None,
            )
        )
        agent_groups[uid] = [g for g in u.workgroups if g in workgroups]
    return _Found(workgroups, campaigns, agents, agent_groups, skipped)


def _write(found: _Found) -> None:
    Workgroup.objects.bulk_create(
        [Workgroup(id=wid, name=name) for wid, name in found.workgroups.items()],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["name"],
    )
    ids = [c.id for c in found.campaigns]
    admin_state = set(
        Campaign.objects.filter(id__in=ids, state_source="admin").values_list("id", flat=True)
    )
    admin_group = set(
        Campaign.objects.filter(id__in=ids, workgroup_source="admin").values_list("id", flat=True)
    )
    for c in found.campaigns:
        c.state_source = "icws" if c.state != Campaign.State.UNKNOWN else ""
        c.workgroup_source = "icws" if c.workgroup_id else ""
    Campaign.objects.bulk_create(
        found.campaigns,
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["name", "active", "synced_at"],
    )
    # ICWS's state/workgroup (or "unknown") only where no admin recorded one.
    for c in found.campaigns:
        fields = {}
        if c.id not in admin_state:
            fields.update(state=c.state, state_source=c.state_source)
        if c.id not in admin_group:
            fields.update(workgroup_id=c.workgroup_id, workgroup_source=c.workgroup_source)
        if fields:
            Campaign.objects.filter(id=c.id).update(**fields)
    Campaign.objects.exclude(id__in=ids).update(active=False)
    Agent.objects.bulk_create(
        found.agents,
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=[
            "name",
            "extension",
            "active",
            "synced_at",
            "status_id",
            "logged_in",
            "on_phone",
            "status_changed",
        ],
    )
    agent_ids = [a.id for a in found.agents]
    Agent.objects.exclude(id__in=agent_ids).update(active=False)
    through = Agent.workgroups.through
    through.objects.filter(agent_id__in=agent_ids).delete()
    through.objects.bulk_create(
        [through(agent_id=a, workgroup_id=g) for a, gs in found.agent_groups.items() for g in gs]
    )


@dataclass
class ImportResult:
    rows: int
    agents: int
    errors: list[str]


def roster_import(*, text: str, actor=None, source: str = "import") -> ImportResult:
    """Replace the roster of the listed agents from CSV ``agent_id,campaign_id`` rows.

    A header row is optional. An agent listed with an empty campaign id is put in no campaign.
    Any unknown agent or campaign, or a malformed row, rejects the whole file with every error
    named by line; nothing is written then.
    """
    errors: list[str] = []
    wanted: dict[str, set[str]] = {}
    reader = csv.reader(io.StringIO(text))
    agents = set(Agent.objects.values_list("id", flat=True))
    campaigns = set(Campaign.objects.values_list("id", flat=True))
    rows = 0
    for line_no, row in enumerate(reader, start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if line_no == 1 and [c.strip().lower() for c in row[:2]] == ["agent_id", "campaign_id"]:
            continue
        rows += 1
        if len(row) != 2:
            errors.append(
                f"line {line_no}: expected 2 columns (agent_id,campaign_id), got {len(row)}"
            )
            continue
        agent_id, campaign_id = (cell.strip() for cell in row)
        if agent_id not in agents:
            errors.append(f"line {line_no}: unknown agent {agent_id!r}")
            continue
        if campaign_id and campaign_id not in campaigns:
            errors.append(f"line {line_no}: unknown campaign {campaign_id!r}")
            continue
        wanted.setdefault(agent_id, set())
        if campaign_id:
            wanted[agent_id].add(campaign_id)
    if errors:
        return ImportResult(rows=rows, agents=0, errors=errors)
    with transaction.atomic():
        before = {
            a: sorted(RosterEntry.objects.filter(agent_id=a).values_list("campaign_id", flat=True))
            for a in wanted
        }
        RosterEntry.objects.filter(agent_id__in=list(wanted)).delete()
        RosterEntry.objects.bulk_create(
            [
                RosterEntry(agent_id=a, campaign_id=c, source=source)
                for a, cs in wanted.items()
                for c in cs
            ]
        )
        Agent.objects.filter(id__in=list(wanted)).update(roster_version=F("roster_version") + 1)
        audit_record(
            kind=AuditEvent.Kind.ROSTER_IMPORT,
            actor=actor,
            agent_ids=sorted(wanted),
            roster_before=before,
            roster_after={a: sorted(cs) for a, cs in wanted.items()},
            message=f"Roster {source}: {len(wanted)} agent(s) from {rows} row(s)",
        )
    return ImportResult(rows=rows, agents=len(wanted), errors=[])
