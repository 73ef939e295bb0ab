"""The hash chain: appended in order, verified row by row, archived without breaking it."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from dashboard.audit.chain import content_of, row_hash
from dashboard.audit.chainer import chain_pending
from dashboard.audit.integrity import audit_archive, chain_verify
from dashboard.audit.models import AuditChainHead, AuditEvent
from dashboard.audit.services import audit_record

Kind = AuditEvent.Kind
pytestmark = pytest.mark.postgres_too


def _sql(statement: str, params=()) -> None:
    """Tampering the way someone with database access would: behind the ORM's back."""
    with connection.cursor() as cursor:
        cursor.execute(statement.format(events=AuditEvent._meta.db_table), params)


def _events(n: int, actor=None) -> list[AuditEvent]:
    """n rows, each chained by the chainer after it is written (as the beat task would)."""
    return [_chained(audit_record(kind=Kind.ROSTER_IMPORT, actor=actor, message=f"import {i}"))
            for i in range(n)]  # fmt: skip


def _chained(event: AuditEvent) -> AuditEvent:
    chain_pending()
    return AuditEvent.objects.get(pk=event.pk)


def test_rows_link_each_to_the_one_before(db, mover):
    first, second, third = _events(3, mover)
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == ""
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (3, third.hash)


def test_a_job_writes_chained_rows_searchable_by_its_agents_and_campaigns(moved):
    kinds = list(moved.audit_events.order_by("seq").values_list("kind", flat=True))
    assert kinds == [Kind.REQUESTED, Kind.STARTED, Kind.SUCCEEDED]
    done = moved.audit_events.get(kind=Kind.SUCCEEDED)
    assert done.roster_before == {"a1": ["{C1}"], "a2": ["{C1}"]}
    assert done.roster_after == {"a1": ["{C2}"], "a2": ["{C2}"]}
    assert [part.split()[0] for part in done.agent_search.split(" | ")] == ["a1", "a2"]
    assert [part.split()[0] for part in done.campaign_search.split(" | ")] == ["{c2}", "{c1}"]
    report = chain_verify()
    assert report.ok, report.problem
    assert report.rows == 3


def test_verify_names_a_row_changed_in_the_database(db, mover):
    _, middle, _ = _events(3, mover)
    _sql("UPDATE {events} SET message = %s WHERE id = %s", ["rewritten", middle.pk])
    report = chain_verify()
    assert not report.ok
    assert report.broken_id == middle.pk
    assert "content does not match" in report.problem
    with pytest.raises(CommandError, match=rf"row id {middle.pk} \(seq 2\)"):
        call_command("verify_audit")


def test_verify_names_the_gap_a_deleted_row_leaves(db, mover):
    _, middle, last = _events(3, mover)
    _sql("DELETE FROM {events} WHERE id = %s", [middle.pk])
    report = chain_verify()
    assert not report.ok
    assert report.broken_id == last.pk
    assert "seq 2 is missing" in report.problem


def test_verify_finds_a_row_rehashed_to_hide_a_change(db, mover):
    """Recomputing the changed row's own hash does not help: the next row no longer follows."""
    _, middle, last = _events(3, mover)
    forged = {**content_of(middle), "job_id": None, "message": "forged"}
    new_hash = row_hash(middle.prev_hash, forged)
    _sql(
        "UPDATE {events} SET message = %s, hash = %s WHERE id = %s",
        ["forged", new_hash, middle.pk],
    )
    report = chain_verify()
    assert not report.ok
    assert report.broken_id == last.pk
    assert "prev_hash does not match" in report.problem


def test_verify_audit_command_reports_an_intact_chain(db, mover, capsys):
    _events(4, mover)
    call_command("verify_audit")
    assert "Audit chain intact: 4 rows, seq 1 to 4" in capsys.readouterr().out


def test_verify_audit_command_on_an_empty_log(db, capsys):
    call_command("verify_audit")
    assert "empty" in capsys.readouterr().out


def test_archive_moves_old_rows_to_a_file_and_the_chain_still_verifies(db, mover, tmp_path):
    old = _events(3, mover)
    cutoff = timezone.now()
    recent = _events(2, mover)
    result = audit_archive(older_than=cutoff, directory=tmp_path)

    assert (result.count, result.first_seq, result.last_seq) == (3, 1, 3)
    lines = result.path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [e.pk for e in old]
    assert hashlib.sha256(result.path.read_bytes()).hexdigest() == result.sha256
    remaining = list(AuditEvent.objects.order_by("seq").values_list("pk", flat=True))
    archived_event = AuditEvent.objects.get(kind=Kind.ARCHIVED)
    assert remaining == [recent[0].pk, recent[1].pk, archived_event.pk]
    assert archived_event.details["last_hash"] == old[-1].hash
    assert archived_event.details["sha256"] == result.sha256

    report = chain_verify()
    assert report.ok, report.problem
    assert (report.first_seq, report.last_seq) == (4, 6)


def test_after_an_archive_a_changed_row_is_still_found(db, mover, tmp_path):
    _events(2, mover)
    cutoff = timezone.now()
    kept = _events(2, mover)
    audit_archive(older_than=cutoff, directory=tmp_path)
    _sql("UPDATE {events} SET message = %s WHERE id = %s", ["rewritten", kept[0].pk])
    report = chain_verify()
    assert not report.ok
    assert report.broken_id == kept[0].pk


def test_archive_with_nothing_old_enough_changes_nothing(db, mover, tmp_path):
    _events(2, mover)
    result = audit_archive(older_than=timezone.now() - timedelta(days=1), directory=tmp_path)
    assert result.count == 0
    assert AuditEvent.objects.count() == 2
    assert list(tmp_path.iterdir()) == []


def test_archive_audit_command_needs_a_retention(db, settings):
    settings.AUDIT_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="--older-than-days"):
        call_command("archive_audit")


def test_archive_audit_command_archives_by_age(db, mover, tmp_path, capsys):
    _events(2, mover)
    call_command("archive_audit", "--older-than-days", "1", "--output", str(tmp_path))
    assert "No audit entries older than 1 day." in capsys.readouterr().out
    assert AuditEvent.objects.count() == 2
