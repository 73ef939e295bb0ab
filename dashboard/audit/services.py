"""The only writer of audit rows. Services call ``audit_record`` inside their own transactions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal
from django.utils import timezone

from dashboard.audit.chain import (
    CHAIN_VERSION,
    canonical_v2,
    canonical_v4,
    seal_message,
    text_with_seq,
)
from dashboard.audit.checkpoints import sign
from dashboard.audit.models import AuditEvent
from dashboard.audit.search import resolve_names, search_columns
from dashboard.core.prepared import PreparedInsert


def audit_record(
    *,
    kind: str,
    actor=None,
    job=None,
    agent_ids: list[str] | None = None,
    campaign_ids_in: list[str] | None = None,
    campaign_ids_out: list[str] | None = None,
    reason: str | None = None,
    roster_before: dict[str, list[str]] | None = None,
    roster_after: dict[str, list[str]] | None = None,
    icws_error: Any = None,
    message: str = "",
    request_id: str | None = None,
    duration_ms: int | None = None,
    details: dict[str, Any] | None = None,
    agent_names: Mapping[str, str] | None = None,
    campaign_names: Mapping[str, str] | None = None,
    pk: int | None = None,
    defer: list[AuditEvent] | None = None,
) -> AuditEvent:
    """Write one event, unchained, with its seal. Job fields default from ``job``;
    ``icws_error`` is an ``IcwsError``.

    ``pk``: an id taken from the table's sequence beforehand (``next_ids_sql``, read in a round
    trip the caller makes anyway): the seal, which covers the id, is then computed first and
    the row is one INSERT instead of an INSERT and an UPDATE of its seal. With ``pk``,
    ``defer``: the row is built and sealed but appended to ``defer`` instead of inserted, for
    the caller to send several rows' INSERTs in one round trip (``insert_statements``, then
    ``inserted`` for each once sent), in the same transaction.

    No shared lock is taken: the row gets its id from the table's sequence and a seal (HMAC of
    its id and content under ``AUDIT_SIGNING_KEY``); the chainer (``audit.chainer``) links it
    into the hash chain after it commits. Its ``seq`` and ``hash`` are empty until then.

    ``agent_names``/``campaign_names`` (id -> name) are stored beside the ids; when not given
    they come from the registered resolver (``audit.search``). They are not hashed.
    """
    if job is not None:
        actor = actor if actor is not None else job.requested_by
        agent_ids = agent_ids if agent_ids is not None else job.agent_ids
        campaign_ids_in = campaign_ids_in if campaign_ids_in is not None else job.campaign_ids_in
        campaign_ids_out = (
            campaign_ids_out if campaign_ids_out is not None else job.campaign_ids_out
        )
        # None means "the job's"; "" is an answer of its own (a refusal by someone else).
        reason = job.reason if reason is None else reason
        request_id = job.request_id if request_id is None else request_id
    reason, request_id = reason or "", request_id or ""
    username = getattr(actor, "username", "") or ""
    actor = actor if actor is not None and actor.pk else None
    content = {
        "hash_version": CHAIN_VERSION,
        "kind": kind,
        "actor_id": actor.pk if actor is not None else None,
        "actor_username": username,
        "job_id": job.pk if job is not None else None,
        "agent_ids": list(agent_ids or []),
        "campaign_ids_in": list(campaign_ids_in or []),
        "campaign_ids_out": list(campaign_ids_out or []),
        "reason": reason,
        "roster_before": roster_before or {},
        "roster_after": roster_after or {},
        "icws_status": getattr(icws_error, "status", None),
        # ICWS's errorId of any length must not lose the audit row: cut to its column (200).
        "icws_error_id": str(getattr(icws_error, "error_id", None) or "")[:200].replace(
            "\x00", "\ufffd"
        ),
        "icws_message": getattr(icws_error, "message", "") or "",
        "message": message,
        "request_id": request_id,
        "duration_ms": duration_ms,
        "details": details or {},
    }
    extra = _what_people_know(content, agent_names, campaign_names)
    # No savepoint inside a caller's transaction (SAVEPOINT and RELEASE were two of a move's
    # statements per row): a failed insert or seal must fail the caller's whole transaction
    # anyway, since no move may commit without its audit row.
    with transaction.atomic(savepoint=False):
        content["at"] = timezone.now()
        fields = {k: v for k, v in content.items() if k not in ("job_id", "actor_id")}
        if pk is not None:
            seal = _seal({**content, **extra, "seq": 0, "id": pk})
            event = AuditEvent(id=pk, actor=actor, job=job, seq=None, seal=seal, **fields, **extra)
            if defer is not None:
                defer.append(event)
            else:
                _insert(event)
            return event
        event = AuditEvent.objects.create(actor=actor, job=job, seq=None, **fields, **extra)
        content["seq"] = 0  # replaced by null in what the seal signs
        content["id"] = event.pk
        content.update(extra)
        event.seal = _seal(content)
        table = connection.ops.quote_name(AuditEvent._meta.db_table)
        with connection.cursor() as cursor:  # the ORM refuses updates of audit rows
            cursor.execute(
                f"UPDATE {table} SET seal = %s WHERE id = %s",  # noqa: S608 - table name only
                [event.seal, event.pk],
            )
            for sql, params in _with_row(event):
                cursor.execute(sql, params)
    return event


# The INSERT of a row that brings its id, its SQL built once per thread (``core.prepared``):
# ``objects.create`` spent most of its time in per-column compiling that gives the same SQL
# for every row (a third of ``audit_record``'s CPU in a token POST).
_INSERT = PreparedInsert(
    AuditEvent, [f for f in AuditEvent._meta.concrete_fields if not f.generated]
)


# Sent for each new row once its content is final (before its INSERT is sent where the row
# has its id first, after the INSERT and seal where it has not); a receiver returns a statement
# to write with the row, in its transaction, after its INSERT (``(sql, params)``), or None.
# agentpage asks a "succeeded" row's agents for ready-for-calls this way:
# a caller that sends rows' INSERTs itself (``insert_statements``, the worker's coalesced rows)
# sends these in the same round trip, where a ``post_save`` receiver's own statement was one
# more round trip per row, inside the outcome's transaction.
written_with_row = Signal()


def _insert(event: AuditEvent) -> None:
    """``event.save(force_insert=True)`` for a new row with its id: the same INSERT and the
    same ``pre_save``/``post_save`` signals, then what ``written_with_row`` asks."""
    statements = insert_statements(event)
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
    inserted(event)


def insert_statements(event: AuditEvent) -> list[tuple[str, tuple]]:
    """A deferred row's INSERT (``audit_record(defer=)``), after its ``pre_save`` signal, then
    the statements ``written_with_row`` receivers return for it, all for the caller to send in
    this order in the row's transaction."""
    using = connection.alias
    pre_save.send(sender=AuditEvent, instance=event, raw=False, using=using, update_fields=None)
    return [_INSERT.statement(event, using), *_with_row(event)]


def _with_row(event: AuditEvent) -> list[tuple[str, tuple]]:
    answers = written_with_row.send(sender=AuditEvent, instance=event)
    return [statement for _, statement in answers if statement is not None]


def inserted(event: AuditEvent) -> None:
    """A deferred row's INSERT was sent: the row as saved, then its ``post_save`` signal."""
    using = connection.alias
    event._state.adding, event._state.db = False, using
    post_save.send(
        sender=AuditEvent, instance=event, created=True, update_fields=None, raw=False, using=using
    )


def _seal(content: dict[str, Any]) -> str:
    """The seal of a row's content (with its id; seq is signed as null)."""
    canonical = canonical_v4 if CHAIN_VERSION >= 4 else canonical_v2
    text = text_with_seq(CHAIN_VERSION, canonical(content), None)
    return sign(seal_message(content["id"], text, CHAIN_VERSION))


def next_ids_sql(count: int) -> tuple[str, tuple] | None:
    """A SELECT of ``count`` new ids from the audit table's sequence, for ``audit_record(pk=)``;
    None where there is no sequence to take them from (SQLite: the INSERT gives the id). An id
    taken and not used leaves a gap, as a rolled-back insert does: the chain orders rows by
    seq, never by id. Take them in the transaction that writes the rows, shortly before (a job's
    claim takes its "started" row's id in its first round trip, then may wait for its agents'
    locks): the audit page's time filter trusts ids to follow ``at`` to within minutes
    (``selectors.ID_TIME_SKEW``)."""
    if connection.vendor != "postgresql":
        return None
    table = AuditEvent._meta.db_table
    return (
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (table, count),
    )


def _what_people_know(
    content: dict[str, Any],
    agent_names: Mapping[str, str] | None,
    campaign_names: Mapping[str, str] | None,
) -> dict[str, Any]:
    agent_ids = list(
        dict.fromkeys([*content["agent_ids"], *content["roster_before"], *content["roster_after"]])
    )
    campaign_ids = list(dict.fromkeys([*content["campaign_ids_in"], *content["campaign_ids_out"]]))
    if agent_names is None or campaign_names is None:
        found_agents, found_campaigns = resolve_names(
            agent_ids if agent_names is None else [],
            campaign_ids if campaign_names is None else [],
        )
        agent_names = found_agents if agent_names is None else agent_names
        campaign_names = found_campaigns if campaign_names is None else campaign_names
    agents = {a: agent_names[a] for a in agent_ids if a in agent_names}
    campaigns = {c: campaign_names[c] for c in campaign_ids if c in campaign_names}
    return {
        "agent_names": agents,
        "campaign_names": campaigns,
        **search_columns(
            actor_username=content["actor_username"],
            agent_ids=agent_ids,
            campaign_ids=campaign_ids,
            agent_names=agents,
            campaign_names=campaigns,
            texts=(content["reason"], content["message"], content["icws_message"]),
        ),
    }
