"""The chain off the hot path: writers insert sealed, unchained rows; the chainer links them.

Tampering is done as an insider would: raw SQL behind the ORM's back.
"""

from __future__ import annotations

import threading
from itertools import pairwise

import pytest
from django.db import close_old_connections, connection, transaction
from django.urls import reverse

from dashboard.audit.chainer import chain_pending
from dashboard.audit.integrity import chain_verify
from dashboard.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from dashboard.audit.services import audit_record

Kind = AuditEvent.Kind
pytestmark = pytest.mark.postgres_too


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.AUDIT_CHECKPOINT_EVERY_ROWS = 1000
    settings.AUDIT_CHECKPOINT_EVERY_SECONDS = 3600


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.format(events=AuditEvent._meta.db_table), params)


def _write(n: int, actor=None) -> list[AuditEvent]:
    return [
        audit_record(kind=Kind.ROSTER_IMPORT, actor=actor, message=f"import {i}") for i in range(n)
    ]


def test_a_written_row_is_unchained_and_sealed_until_the_chainer_links_it(db, mover):
    first, second = _write(2, mover)
    assert (first.seq, first.hash, first.prev_hash) == (None, "", "")
    assert len(first.seal) == 64 and first.seal != second.seal
    assert AuditChainHead.objects.filter(pk=1, seq__gt=0).exists() is False

    assert chain_pending() == 2
    first, second = AuditEvent.objects.order_by("id")
    assert (first.seq, second.seq) == (1, 2)
    assert (first.prev_hash, second.prev_hash) == ("", first.hash)
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (2, second.hash)
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [2]
    assert chain_pending() == 0  # nothing left


def test_verify_chains_fresh_rows_before_it_walks(db, mover):
    _write(3, mover)
    report = chain_verify()
    assert report.ok, report.problem
    assert (report.rows, report.last_seq, report.unchained) == (3, 3, 0)


def test_a_row_changed_after_chaining_is_found(db, mover):
    _write(3, mover)
    chain_pending()
    middle = AuditEvent.objects.get(seq=2)
    _sql("UPDATE {events} SET reason = 'edited' WHERE id = %s", [middle.pk])
    report = chain_verify()
    assert not report.ok
    assert (report.broken_id, report.broken_seq) == (middle.pk, 2)
    assert "content does not match its hash" in report.problem


def _insert_raw(message: str) -> int:
    """A row inserted behind audit_record's back: no seal (it cannot make one without the key)."""
    _sql(
        "INSERT INTO {events} (at, kind, actor_username, agent_ids, campaign_ids_in, "
        "campaign_ids_out, reason, roster_before, roster_after, icws_error_id, icws_message, "
        "message, request_id, details, prev_hash, hash, hash_version, seal) VALUES "
        "(%s, 'roster_import', 'mover', '[]', '[]', '[]', '', '{{}}', '{{}}', '', '', %s, '', "
        "'{{}}', '', '', 4, %s)",
        [connection.ops.adapt_datetimefield_value(AuditEvent.objects.first().at), message,
         "0" * 64],
    )  # fmt: skip
    return AuditEvent.objects.get(message=message).pk


def test_a_row_inserted_before_the_chainer_reached_it_is_refused_and_named(db, mover):
    _write(2, mover)
    forged = _insert_raw("forged before chaining")
    _write(1, mover)
    assert chain_pending() == 3  # the three real rows; the forged one is left out
    assert AuditEvent.objects.get(pk=forged).seq is None
    report = chain_verify()
    assert not report.ok
    assert report.broken_id == forged
    assert "no valid seal" in report.problem


def test_a_row_changed_before_the_chainer_reached_it_is_refused_and_named(db, mover):
    _, second = _write(2, mover)
    _sql("UPDATE {events} SET message = 'edited' WHERE id = %s", [second.pk])
    assert chain_pending() == 1
    report = chain_verify()
    assert not report.ok
    assert report.broken_id == second.pk
    assert "no valid seal" in report.problem


def test_a_seal_copied_to_another_row_does_not_verify(db, mover):
    """The seal covers the id: a copy of a sealed row under a new id is refused."""
    (event,) = _write(1, mover)
    _sql(
        "INSERT INTO {events} (at, kind, actor_username, agent_ids, campaign_ids_in, "
        "campaign_ids_out, reason, roster_before, roster_after, icws_error_id, icws_message, "
        "message, request_id, details, prev_hash, hash, hash_version, seal) SELECT at, kind, "
        "actor_username, agent_ids, campaign_ids_in, campaign_ids_out, reason, roster_before, "
        "roster_after, icws_error_id, icws_message, message, request_id, details, '', '', 4, "
        "seal FROM {events} WHERE id = %s",
        [event.pk],
    )
    assert chain_pending() == 1
    report = chain_verify()
    assert not report.ok and "no valid seal" in report.problem


def test_seq_follows_commit_order_when_a_lower_id_commits_later(db, mover):
    """A row whose transaction began first but committed after a later one was chained gets
    the next seq; the chain still verifies (format 3 hashes the id instead)."""
    early, late = _write(2, mover)
    # The earlier row's transaction still open: the chainer cannot see it yet (here: its seal
    # hidden for one run, restored as it was).
    _sql("UPDATE {events} SET seal = '' WHERE id = %s", [early.pk])
    assert chain_pending() == 1
    _sql("UPDATE {events} SET seal = %s WHERE id = %s", [early.seal, early.pk])
    assert chain_pending() == 1
    assert list(AuditEvent.objects.order_by("seq").values_list("pk", flat=True)) == [
        late.pk,
        early.pk,
    ]
    report = chain_verify()
    assert report.ok, report.problem


def test_the_entry_page_shows_a_row_not_chained_yet(db, client, auditor, mover):
    (event,) = _write(1, mover)
    client.force_login(auditor)
    response = client.get(reverse("audit-detail", args=[event.pk]))
    assert response.status_code == 200
    assert "not chained yet" in response.text
    chain_pending()
    response = client.get(reverse("audit-detail", args=[event.pk]))
    assert "not chained yet" not in response.text
    assert "seq 1" in response.text


def test_the_writer_does_not_wait_for_the_chain_head_lock(transactional_db, mover):
    """While another transaction holds the head row locked (a chainer at work), a writer
    still commits its row."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    AuditChainHead.objects.get_or_create(pk=1)
    locked, release, written = threading.Event(), threading.Event(), []

    def hold_the_head():
        try:
            with transaction.atomic():
                AuditChainHead.objects.select_for_update().get(pk=1)
                locked.set()
                release.wait(10)
        finally:
            close_old_connections()
            connection.close()

    holder = threading.Thread(target=hold_the_head)
    holder.start()
    assert locked.wait(10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            written.append(audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message="hot"))
    finally:
        release.set()
        holder.join(10)
    assert written and AuditEvent.objects.filter(pk=written[0].pk).exists()


def test_rows_written_concurrently_by_two_threads_chain_in_one_order(transactional_db, mover):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    per_thread, errors = 60, []
    start = threading.Barrier(3)

    def writer(name: str):
        try:
            start.wait(10)
            for i in range(per_thread):
                with transaction.atomic():
                    audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message=f"{name} {i}")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def chainer():
        try:
            start.wait(10)
            while any(t.is_alive() for t in writers):
                chain_pending()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    writers = [threading.Thread(target=writer, args=(n,)) for n in ("A", "B")]
    linker = threading.Thread(target=chainer)
    for thread in (*writers, linker):
        thread.start()
    for thread in (*writers, linker):
        thread.join(60)
    assert not errors, errors

    chain_pending()
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 2 * per_thread + 1))  # one order, no gap, nobody left out
    by_seq = list(AuditEvent.objects.order_by("seq").values_list("prev_hash", "hash"))
    assert all(prev == before[1] for before, (prev, _) in pairwise(by_seq))
    messages = set(AuditEvent.objects.values_list("message", flat=True))
    assert len(messages) == 2 * per_thread
    report = chain_verify()
    assert report.ok, report.problem
    assert report.rows == 2 * per_thread


def test_a_row_written_with_its_id_is_the_row_create_writes_and_chains(db, mover):
    """``audit_record(pk=)`` writes its INSERT itself (``services._insert``): the stored row
    equals, column by column, the one ``objects.create`` writes for the same content, its
    seal verifies, and ``post_save`` still reports it as created."""
    from django.db.models.signals import post_save

    from dashboard.audit.services import next_ids_sql

    seen = []

    def saved(sender, instance, created, **kwargs):
        seen.append((instance.pk, created, instance._state.adding))

    content = dict(
        kind=Kind.SUCCEEDED,
        actor=mover,
        agent_ids=["a1", "a2"],
        campaign_ids_in=["{C2}"],
        roster_before={"a1": ["{C1}"], "a2": []},
        reason="Zoë's team",
        message="Moved José Núñez",
        details={"n": 1.5, "ok": True},
        agent_names={"a1": "José Núñez", "a2": "Ann"},
        campaign_names={"{C2}": "Winback"},
    )
    sql = next_ids_sql(1)
    if sql is None:
        pk = 9_000_001
    else:
        with connection.cursor() as cursor:
            cursor.execute(*sql)
            pk = cursor.fetchone()[0]
    post_save.connect(saved, sender=AuditEvent, dispatch_uid="test-written-with-id")
    try:
        given = audit_record(**content, pk=pk)
    finally:
        post_save.disconnect(sender=AuditEvent, dispatch_uid="test-written-with-id")
    created = audit_record(**content)
    assert seen == [(pk, True, False)]
    assert given.pk == pk

    columns = [
        f.attname for f in AuditEvent._meta.concrete_fields if f.name not in ("id", "seal", "at")
    ]
    rows = {
        row["id"]: row
        for row in AuditEvent.objects.filter(pk__in=[pk, created.pk]).values("id", *columns)
    }
    assert {k: v for k, v in rows[pk].items() if k != "id"} == {
        k: v for k, v in rows[created.pk].items() if k != "id"
    }
    assert AuditEvent.objects.get(pk=pk).seal == given.seal
    assert chain_pending() == 2  # both seals verify, so the chainer links both
    report = chain_verify()
    assert report.ok, report.problem
