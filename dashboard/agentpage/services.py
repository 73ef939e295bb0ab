"""Writes of the agent page: asking a moved agent for ready-for-calls, and sending it."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from dashboard.accounts.cic_sessions import agent_client
from dashboard.agentpage.models import ReadyForCalls
from dashboard.agentpage.ready import Answer, explain
from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Agent
from icws_client import IcwsError


def ask_for_ready_for_calls(
    job: AllocationJob, agent_ids: list[str], when: datetime | None
) -> None:
    """One open request per agent of ``agent_ids`` the directory knows (the move's own rows)."""
    statement = ready_for_calls_statement(job, agent_ids, when)
    if statement is not None:
        with connection.cursor() as cursor:
            cursor.execute(*statement)


def ready_for_calls_statement(
    job: AllocationJob, agent_ids: list[str], when: datetime | None
) -> tuple[str, list] | None:
    """``ask_for_ready_for_calls``'s statement, not run; None when it would ask nothing.

    One statement, INSERT ... SELECT from the directory's agents: it is written with the move's
    "succeeded" row, in its outcome transaction (``signals``), where a read of the known agents
    first was one more round trip of every job's."""
    if not job.campaign_ids_in or not agent_ids:
        return None
    now = timezone.now()
    rows = ReadyForCalls._meta
    field = rows.get_field
    columns = ("agent_id", "job_id", "campaign_ids", "moved_by_id", "moved_at", "last_error")
    columns += ("updated_at",)
    values = [
        job.pk,
        field("campaign_ids").get_db_prep_save(list(job.campaign_ids_in), connection),
        job.requested_by_id,
        field("moved_at").get_db_prep_save(when or now, connection),
        "",
        field("updated_at").get_db_prep_save(now, connection),
    ]
    agent = Agent._meta
    quote = connection.ops.quote_name
    # On PostgreSQL the ids are one array parameter (as ``core.lookups.AnyOf`` writes them): a
    # 5,000-agent move's statement had 5,000 parameters, bound one by one by psycopg.
    if connection.vendor == "postgresql":
        among, ids = "= ANY(%s)", [list(agent_ids)]
    else:
        among, ids = f"IN ({', '.join(['%s'] * len(agent_ids))})", list(agent_ids)
    sql = (
        f"INSERT INTO {quote(rows.db_table)} ({', '.join(map(quote, columns))}) "  # noqa: S608
        f"SELECT {quote(agent.pk.column)}, {', '.join(['%s'] * len(values))} "
        f"FROM {quote(agent.db_table)} WHERE {quote(agent.pk.column)} {among} "
        "ON CONFLICT DO NOTHING"
    )
    return sql, [*values, *ids]


def send_ready_for_calls(user, agent_id: str, campaign_ids: list[str]) -> Answer:
    """Send ``ready-for-calls`` for ``campaign_ids`` through the agent's own ICWS session.

    On a 200 every open request of the agent whose campaigns were sent is stamped and its move's
    audit gets a READY_FOR_CALLS row (with the job); otherwise the answer in words is kept on them
    for the page. ``campaign_ids`` come from the agent's open requests (``selectors``), never from
    the form, so nobody can send ready-for-calls for a campaign the roster does not give them.
    """
    open_requests = list(
        ReadyForCalls.objects.filter(agent_id=agent_id, sent_at=None).select_related("job")
    )
    if not campaign_ids:
        return Answer(ok=False, text="There is nothing to send: no move is waiting for you.")
    client = agent_client(user)
    if client is None:
        answer = explain(None)
    else:
        try:
            client.ready_for_calls(campaign_ids)
            answer = explain(None, sent=True)
        except IcwsError as exc:
            answer = explain(exc)
    now = timezone.now()
    concerned = [r for r in open_requests if set(r.campaign_ids) & set(campaign_ids)]
    with transaction.atomic():
        if answer.ok:
            ReadyForCalls.objects.filter(pk__in=[r.pk for r in concerned]).update(
                sent_at=now, attempted_at=now, last_error="", updated_at=now
            )
            for request in concerned:
                sent = sorted(set(request.campaign_ids) & set(campaign_ids))
                audit_record(
                    kind=AuditEvent.Kind.READY_FOR_CALLS,
                    actor=user,
                    job=request.job,
                    agent_ids=[agent_id],
                    campaign_ids_in=sent,
                    campaign_ids_out=[],
                    message=f"{agent_id} sent ready-for-calls for {', '.join(sent)}",
                    details={"moved_at": request.moved_at.isoformat(), "sent_at": now.isoformat()},
                )
        else:
            ReadyForCalls.objects.filter(pk__in=[r.pk for r in concerned]).update(
                attempted_at=now, last_error=answer.text[:500], updated_at=now
            )
    return answer
