"""The agents' Logon Campaign right, read from CIC after each directory sync (issue 13 item 6).

A supervisor's move may not take for an agent holding ``securityRights.loginCampaign`` (REF 10),
so the move preview warns about them. The record reads the right one user at a time
(``GET configuration/users/{id}?select=*&rightsFilter=loggedInUser``, REF 3.1) and shows no batch
form, so each sync reads at most ``DIRECTORY_RIGHTS_READS_PER_SYNC`` agents, those read longest
ago (never read first): a large directory is covered over several syncs, and a sync's cost stays
bounded. An agent CIC answers 404 for, or whose answer lacks the right, is set to unknown. The
first other error stops reading for this sync and is recorded on the ``SyncRun``; what was read
before it is kept, the rest keep their last value, and the sync itself has already succeeded.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone

from dashboard.directory.models import Agent, SyncRun
from dashboard.directory.validate import fit
from icws_client import IcwsError
from icws_client.exceptions import IcwsNotFound

log = logging.getLogger(__name__)


def read_logon_rights(*, client, run: SyncRun, limit: int | None = None) -> int:
    """Read the right for up to ``limit`` active agents; the number of answers (also on ``run``)."""
    limit = settings.DIRECTORY_RIGHTS_READS_PER_SYNC if limit is None else limit
    if limit <= 0:
        return 0
    ids = list(
        Agent.objects.filter(active=True)
        .order_by(F("logon_right_read_at").asc(nulls_first=True), "id")
        .values_list("id", flat=True)[:limit]
    )
    found: dict[bool | None, list[str]] = {True: [], False: [], None: []}
    error = ""
    for agent_id in ids:
        try:
            value = client.get_logon_campaign_right(agent_id)
        except IcwsNotFound:
            value = None
        except IcwsError as exc:
            error = fit(f"{type(exc).__name__}: {exc}", 2000)
            log.warning("Reading the Logon Campaign right stopped at %s: %s", agent_id, error)
            break
        found[value].append(agent_id)
    now = timezone.now()
    read = sum(len(group) for group in found.values())
    try:
        for value, group in found.items():
            if group:
                Agent.objects.filter(id__in=group).update(
                    has_logon_campaign_right=value, logon_right_read_at=now
                )
    except DatabaseError as exc:
        error, read = fit(f"{type(exc).__name__}: {exc}", 2000), 0
    SyncRun.objects.filter(pk=run.pk).update(rights_read=read, rights_error=error)
    run.rights_read, run.rights_error = read, error
    return read
