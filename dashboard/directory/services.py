"""Directory sync from ICWS, and roster imports (demo-only seeding lives in ``ops/demo.py``)."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Agent, Campaign, RosterEntry, SyncRun, Workgroup
from icws_client import IcwsError

log = logging.getLogger(__name__)


def directory_sync(*, client) -> SyncRun:
    """Refresh workgroups, campaigns, dialer agents and their presence from ICWS.

    Agents are users in at least one campaign's workgroup. Agents and campaigns that ICWS no
    longer lists are marked inactive, never deleted (the audit log still names them). A failed
    sync changes nothing and is recorded with its error.
    """
    run = SyncRun.objects.create()
    try:
        workgroups = client.list_workgroups()
        campaigns = client.list_campaigns()
        users = client.list_users()
        dialer_groups = {c.workgroup for c in campaigns if c.workgroup}
        agents = [u for u in users if dialer_groups.intersection(u.workgroups)]
        statuses = client.get_user_statuses([a.id for a in agents]) if agents else {}
    except IcwsError as exc:
        run.finished_at = timezone.now()
        run.error = str(exc)
        run.save()
        log.warning("Directory sync failed: %s", exc)
        return run

    now = timezone.now()
    with transaction.atomic():
        Workgroup.objects.bulk_create(
            [Workgroup(id=w.id, name=w.display_name) for w in workgroups],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["name"],
        )
        known_groups = {w.id for w in workgroups}
        Campaign.objects.bulk_create(
            [
                Campaign(
                    id=c.id,
                    name=c.name,
                    state=c.state,
                    active=True,
                    synced_at=now,
                    workgroup_id=c.workgroup if c.workgroup in known_groups else None,
                )
                for c in campaigns
            ],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["name", "state", "workgroup", "active", "synced_at"],
        )
        Campaign.objects.exclude(id__in=[c.id for c in campaigns]).update(active=False)
        Agent.objects.bulk_create(
            [
                Agent(
                    id=a.id,
                    name=a.display_name,
                    extension=a.extension,
                    active=True,
                    synced_at=now,
                    status_id=statuses[a.id].status_id if a.id in statuses else "",
                    logged_in=statuses[a.id].logged_in if a.id in statuses else False,
                    on_phone=statuses[a.id].on_phone if a.id in statuses else False,
                    status_changed=statuses[a.id].status_changed if a.id in statuses else None,
                )
                for a in agents
            ],
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
        Agent.objects.exclude(id__in=[a.id for a in agents]).update(active=False)
        through = Agent.workgroups.through
        through.objects.filter(agent_id__in=[a.id for a in agents]).delete()
        through.objects.bulk_create(
            [
                through(agent_id=a.id, workgroup_id=g)
                for a in agents
                for g in a.workgroups
                if g in known_groups
            ]
        )
        run.finished_at = timezone.now()
        run.ok = True
        run.agents = len(agents)
        run.campaigns = len(campaigns)
        run.save()
    return run


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
