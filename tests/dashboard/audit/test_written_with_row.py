"""``written_with_row``: a statement another app writes with an audit row goes after the row's
INSERT, in its transaction, on every path that writes a row (agentpage's ready-for-calls)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.audit.models import AuditEvent
from dashboard.audit.services import (
    audit_record,
    insert_statements,
    inserted,
    next_ids_sql,
    written_with_row,
)

Kind = AuditEvent.Kind
pytestmark = [pytest.mark.postgres_too, pytest.mark.django_db]
MARK = "SELECT %s AS written_with_row"


@pytest.fixture
def asked():
    rows = []

    def receiver(sender, instance, **kwargs):
        rows.append(instance)
        return (MARK, (len(rows),)) if instance.kind == Kind.RETRY else None

    written_with_row.connect(receiver, sender=AuditEvent, dispatch_uid="test-with-row")
    yield rows
    written_with_row.disconnect(sender=AuditEvent, dispatch_uid="test-with-row")


def _order(queries) -> list[str]:
    sqls = [q["sql"] for q in queries]
    return [
        "insert" if s.startswith('INSERT INTO "audit_auditevent"') else "with-row"
        for s in sqls
        if s.startswith('INSERT INTO "audit_auditevent"') or "AS written_with_row" in s
    ]


def _new_id() -> int | None:
    sql_params = next_ids_sql(1)
    if sql_params is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(*sql_params)
        return cursor.fetchone()[0]


def test_each_row_asks_once_and_its_statement_follows_its_insert(asked):
    with CaptureQueriesContext(connection) as seen:
        audit_record(kind=Kind.RETRY, message="without an id")
        audit_record(kind=Kind.RETRY, message="with an id", pk=_new_id())
        audit_record(kind=Kind.STARTED, message="nothing asked")
    assert [row.message for row in asked] == ["without an id", "with an id", "nothing asked"]
    assert _order(seen.captured_queries) == ["insert", "with-row", "insert", "with-row", "insert"]


def test_a_deferred_rows_statements_come_with_its_insert_for_the_caller_to_send(asked):
    pk = _new_id()
    if pk is None:
        pytest.skip("deferred rows need ids from the audit sequence (PostgreSQL)")
    rows: list[AuditEvent] = []
    audit_record(kind=Kind.RETRY, message="deferred", pk=pk, defer=rows)
    assert not AuditEvent.objects.filter(pk=pk).exists() and asked == []
    (insert, (sql, params)) = insert_statements(rows[0])
    assert insert[0].startswith('INSERT INTO "audit_auditevent"')
    assert (sql, params) == (MARK, (1,))
    with connection.cursor() as cursor:
        cursor.execute(*insert)
    inserted(rows[0])
    assert AuditEvent.objects.filter(pk=pk).exists()
