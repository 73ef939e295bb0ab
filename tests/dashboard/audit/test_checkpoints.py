"""Signed checkpoints and the tampering they (with the head and the index checks) expose.

Each attack is done the way an insider with database access would: raw SQL behind the ORM's
back, on the test database. The checkpoint file lives in a per-test folder.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from dashboard.audit.chain import (
    canonical,
    canonical_v2,
    canonical_v2_from_text,
    content_of,
    json_text,
    row_hash,
    utc_text,
)
from dashboard.audit.chainer import chain_pending
from dashboard.audit.checkpoints import checkpoint_file, checkpoint_now, newest_checkpoint
from dashboard.audit.checks import check_audit_signing_key
from dashboard.audit.integrity import chain_verify
from dashboard.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from dashboard.audit.services import audit_record

Kind = AuditEvent.Kind
pytestmark = pytest.mark.postgres_too

TABLES = {
    "events": AuditEvent._meta.db_table,
    "head": AuditChainHead._meta.db_table,
    "checkpoints": AuditCheckpoint._meta.db_table,
}


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.AUDIT_CHECKPOINT_EVERY_ROWS = 1000
    settings.AUDIT_CHECKPOINT_EVERY_SECONDS = 3600
    return settings.AUDIT_CHECKPOINT_DIR


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what a commit would run (the file append) at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.format(**TABLES), params)


def _events(n: int, actor=None, commit=None) -> list[AuditEvent]:
    def write():  # each row chained after it is written, as the beat task would
        return [
            _chained(audit_record(kind=Kind.ROSTER_IMPORT, actor=actor, message=f"import {i}"))
            for i in range(n)
        ]

    if commit is None:
        return write()
    with commit():
        return write()


def _chained(event: AuditEvent) -> AuditEvent:
    chain_pending()
    return AuditEvent.objects.get(pk=event.pk)


def _broken(match: str) -> None:
    report = chain_verify()
    assert not report.ok
    assert match in report.problem, report.problem
    with pytest.raises(CommandError, match="Audit chain broken"):
        call_command("verify_audit")


def _checkpoint_at_end(mover, commit, n=5) -> list[AuditEvent]:
    """n rows, then a signed checkpoint of the head (seq n), in the file and the database."""
    events = _events(n, mover)
    with commit():
        point = checkpoint_now()
    assert point.seq == n
    return events


# -- the checkpoints themselves ---------------------------------------------------------------


def test_checkpoints_every_n_rows_reach_the_file_and_the_database(db, mover, settings, commit):
    settings.AUDIT_CHECKPOINT_EVERY_ROWS = 3
    _events(7, mover, commit)
    lines = [json.loads(line) for line in checkpoint_file().read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 4, 7]
    assert list(AuditCheckpoint.objects.order_by("seq").values_list("seq", flat=True)) == [1, 4, 7]
    assert lines[-1]["hash"] == AuditChainHead.objects.get(pk=1).hash
    newest = newest_checkpoint()
    assert (newest.checkpoint.seq, newest.source) == (7, "file")


def test_a_checkpoint_falls_due_after_the_interval(db, mover, settings, commit):
    _events(2, mover, commit)  # the first row is checkpointed, the second is not yet due
    assert AuditCheckpoint.objects.count() == 1
    AuditChainHead.objects.filter(pk=1).update(checkpoint_at=timezone.now() - timedelta(hours=2))
    _events(1, mover, commit)
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [1, 3]


def test_a_rolled_back_row_leaves_no_checkpoint_line(db, mover, commit):
    def move_that_fails():
        with transaction.atomic():
            audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message="rolled back")
            raise RuntimeError

    with commit(), pytest.raises(RuntimeError):
        move_that_fails()
    assert not checkpoint_file().exists()
    assert not AuditCheckpoint.objects.exists()


def test_verify_audit_names_the_checkpoint_it_matched(db, mover, commit, capsys):
    _checkpoint_at_end(mover, commit)
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "Audit chain intact: 5 rows, seq 1 to 5" in out
    assert "signed checkpoint at seq 5 (file)" in out


def test_production_without_a_signing_key_is_a_system_check_error(settings):
    settings.DEBUG, settings.DEMO_MODE, settings.AUDIT_SIGNING_KEY = False, False, ""
    assert [e.id for e in check_audit_signing_key(None)] == ["dashboard.E010"]
    settings.AUDIT_SIGNING_KEY = "k" * 64
    assert check_audit_signing_key(None) == []


def test_the_fast_text_is_the_json_of_the_values(db, mover):
    """verify_audit assembles version 2's text from column text; it must equal plain JSON."""
    content = {
        "seq": 7,
        "at": timezone.now(),
        "kind": "succeeded",
        "actor_id": 3,
        "actor_username": 'Zoë "the" \\ boss\n',
        "job_id": None,
        "agent_ids": ["a1", "é"],
        "campaign_ids_in": ["{C1}"],
        "campaign_ids_out": [],
        "reason": "=cmd|\u2028",
        "roster_before": {"b": ["{C2}"], "a": []},
        "roster_after": {},
        "icws_status": 503,
        "icws_error_id": "",
        "icws_message": "\x00\x1f",
        "message": "m",
        "request_id": "r",
        "duration_ms": None,
        "details": {"z": 1, "a": {"y": None, "b": 2.5}},
    }
    plain = json.dumps(
        [utc_text(v) if k == "at" else v for k, v in content.items()],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert canonical_v2(content) == plain
    from_text = [
        json_text(v) if isinstance(v, list | dict) else v for v in content.values()
    ]  # what rawrows hands over
    from_text[1] = utc_text(content["at"])
    assert canonical_v2_from_text(*from_text) == plain


# -- rows changed, dropped or reordered -------------------------------------------------------


def test_a_changed_actor_id_is_found(db, mover, auditor):
    _, middle, _ = _events(3, mover)
    _sql("UPDATE {events} SET actor_id = %s WHERE id = %s", [auditor.pk, middle.pk])
    report = chain_verify()
    assert (report.ok, report.broken_id) == (False, middle.pk)
    assert "content does not match its hash" in report.problem


def test_swapped_row_ids_are_found(db, mover):
    first, second, _ = _events(3, mover)
    _sql("UPDATE {events} SET id = %s WHERE id = %s", [-1, first.pk])
    _sql("UPDATE {events} SET id = %s WHERE id = %s", [first.pk, second.pk])
    _sql("UPDATE {events} SET id = %s WHERE id = %s", [second.pk, -1])
    _broken("row ids do not rise with seq")


def test_a_missing_head_is_found(db, mover):
    _events(3, mover)
    _sql("DELETE FROM {head}")
    _broken("the chain head row is missing")


def test_a_head_with_no_rows_is_found(db, mover):
    _events(3, mover)
    _sql("DELETE FROM {checkpoints}")  # nothing signed says otherwise: the head alone tells
    _sql("DELETE FROM {events}")
    _broken("the chain head says seq 3, but the log is empty")


def test_every_row_deleted_while_a_checkpoint_says_seq_n(db, mover, commit):
    _checkpoint_at_end(mover, commit)
    _sql("DELETE FROM {events}")
    _sql("DELETE FROM {head}")
    _sql("DELETE FROM {checkpoints}")  # the database copy goes too; the file remains
    _broken("the signed checkpoint says seq 5, but the log is empty")


def test_the_last_rows_deleted_with_the_head_row(db, mover, commit):
    _checkpoint_at_end(mover, commit)
    _sql("DELETE FROM {events} WHERE seq > 3")
    _sql("DELETE FROM {head}")
    _broken("the signed checkpoint says seq 5, but the rows end at 3")


def test_the_tail_deleted_and_the_head_set_to_match(db, mover, commit):
    events = _checkpoint_at_end(mover, commit)
    _sql("DELETE FROM {events} WHERE seq > 3")
    _sql("UPDATE {head} SET seq = 3, hash = %s, checkpoint_seq = 0", [events[2].hash])
    _sql("DELETE FROM {checkpoints}")
    _broken("the signed checkpoint says seq 5, but the rows end at 3")


def test_a_head_older_than_the_checkpoint(db, mover, commit):
    events = _checkpoint_at_end(mover, commit)
    _sql("UPDATE {head} SET seq = 3, hash = %s", [events[2].hash])
    _broken("the chain head (seq 3) is older than the signed checkpoint (seq 5)")


def _forge(prev: AuditEvent, at, seq: int) -> str:
    """Insert a properly hashed row (``prev``'s format, its id chosen so the hash fits) after
    ``prev`` and point the head at it."""
    pk = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[0] + 100
    content = {**content_of(prev), "id": pk, "seq": seq, "at": at, "message": "forged",
               "actor_id": None, "agent_names": None, "campaign_names": None,
               "actor_search": "", "agent_search": "", "campaign_search": "",
               "search_text": ""}  # fmt: skip
    digest = row_hash(prev.hash, content)
    _sql(
        "INSERT INTO {events} (id, at, kind, actor_username, agent_ids, campaign_ids_in, "
        "campaign_ids_out, reason, roster_before, roster_after, icws_error_id, icws_message, "
        "message, request_id, details, seq, prev_hash, hash, hash_version) VALUES "
        "(%s, %s, %s, %s, '[]', '[]', '[]', '', '{{}}', '{{}}', '', '', 'forged', '', '{{}}', "
        "%s, %s, %s, %s)",
        [
            pk,
            connection.ops.adapt_datetimefield_value(at),
            prev.kind,
            prev.actor_username,
            seq,
            prev.hash,
            digest,
            content["hash_version"],
        ],
    )
    _sql("UPDATE {head} SET seq = %s, hash = %s", [seq, digest])
    return digest


def test_a_forged_backdated_row_with_the_head_set(db, mover, commit):
    events = _checkpoint_at_end(mover, commit)
    _forge(events[-1], events[0].at - timedelta(minutes=5), seq=6)
    report = chain_verify()
    assert report.ok is False
    assert "before the signed checkpoint at seq 5" in report.problem
    assert report.broken_seq == 6


def test_a_rewritten_chain_with_the_head_set_contradicts_the_checkpoint(db, mover, commit):
    """Delete seq 4-5 and forge new ones, properly hashed: seq 5's hash is not the signed one."""
    events = _checkpoint_at_end(mover, commit)
    _sql("DELETE FROM {events} WHERE seq > 3")
    digest = _forge(events[2], events[3].at, seq=4)
    forged_4 = AuditEvent.objects.get(seq=4)
    assert forged_4.hash == digest
    _forge(forged_4, events[4].at, seq=5)
    _broken("hash differs from the signed checkpoint at seq 5")


def test_a_forged_database_checkpoint_is_found(db, mover, commit):
    _events(3, mover)
    with commit():
        checkpoint_now()
    checkpoint_file().unlink()  # only the database copy is left to read
    _sql("UPDATE {checkpoints} SET seq = 2")
    report = chain_verify()
    assert not report.ok
    assert "the database checkpoint at seq 2 is forged" in report.problem


def test_a_checkpoint_file_line_with_a_bad_signature_is_found(db, mover, commit):
    _checkpoint_at_end(mover, commit)
    path = checkpoint_file()
    line = json.loads(path.read_text())
    path.write_text(json.dumps({**line, "seq": 3}) + "\n")
    _broken("checkpoint file line 1 has a bad signature")


def test_a_torn_last_line_of_the_file_is_skipped(db, mover, commit):
    _checkpoint_at_end(mover, commit)
    with checkpoint_file().open("a") as handle:
        handle.write('{"seq": 9')  # a crash mid-write
    assert chain_verify().ok


# -- what the filters search (names and folded columns: hashed from format 4 on) ---------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("agent_search", "''"),  # hidden from the agent filter and agent history
        ("campaign_search", "''"),  # hidden from the campaign filter
        ("actor_search", "'someone else'"),  # hidden from the actor filter
        ("search_text", "''"),  # hidden from the text search
        ("agent_names", '\'{{"a1": "Someone Else"}}\''),  # a name shown and exported
    ],
)
def test_a_row_hidden_from_a_filter_or_renamed_is_found(moved, column, value):
    chain_pending()
    done = moved.audit_events.get(kind=Kind.SUCCEEDED)
    _sql(f"UPDATE {{events}} SET {column} = {value} WHERE id = %s", [done.pk])  # noqa: S608
    report = chain_verify()
    assert (report.ok, report.broken_id) == (False, done.pk)
    assert "content does not match its hash" in report.problem


def test_the_search_columns_of_a_real_move_verify(moved):
    done = moved.audit_events.get(kind=Kind.SUCCEEDED)
    assert "a1" in done.agent_search and "{c2}" in done.campaign_search
    report = chain_verify()
    assert report.ok, report.problem


# -- rows written in hash format 1 ------------------------------------------------------------


def _as_version_1(events: list[AuditEvent]) -> None:
    prev = ""
    for event in events:
        digest = row_hash(prev, {**content_of(event), "hash_version": 1})
        _sql(
            "UPDATE {events} SET hash_version = 1, prev_hash = %s, hash = %s WHERE id = %s",
            [prev, digest, event.pk],
        )
        prev = digest
    _sql("UPDATE {head} SET hash = %s", [prev])


def test_rows_of_hash_format_1_still_verify_and_a_change_is_found(db, mover):
    events = _events(3, mover)
    _sql("DELETE FROM {checkpoints}")  # signed over the version-2 hashes this test replaces
    _as_version_1(events)
    assert canonical(content_of(events[0])).startswith('{"actor_username"')
    assert chain_verify().ok, chain_verify().problem
    _sql("UPDATE {events} SET message = 'rewritten' WHERE id = %s", [events[1].pk])
    report = chain_verify()
    assert (report.ok, report.broken_id) == (False, events[1].pk)


def test_a_version_1_row_after_version_2_rows_is_found(db, mover):
    """Setting a row back to format 1 (which does not cover actor_id) is itself a finding."""
    events = _events(3, mover)
    last = events[-1]
    digest = row_hash(last.prev_hash, {**content_of(last), "hash_version": 1})
    _sql(
        "UPDATE {events} SET hash_version = 1, hash = %s WHERE id = %s",
        [digest, last.pk],
    )
    _sql("UPDATE {head} SET hash = %s", [digest])
    _broken("hash_version 1 after version 4")  # rows are written in format 4 now


def test_the_beat_task_signs_a_head_that_moved_and_only_then(db, mover, commit):
    from dashboard.audit.tasks import audit_checkpoint_task

    _events(3, mover)  # the first row was checkpointed; rows 2 and 3 are not yet
    with commit():
        assert audit_checkpoint_task() == 3
    assert audit_checkpoint_task() is None
    assert json.loads(checkpoint_file().read_text())["seq"] == 3


def _generate(path: str, start, results) -> None:
    from pathlib import Path

    from dashboard.audit.checkpoints import _generated_key

    start.wait()
    results.put(_generated_key(Path(path)))


def test_processes_racing_to_generate_the_demo_key_all_get_the_whole_key(tmp_path):
    """The key file appears whole (written under another name, then linked): a process that
    loses the race reads the full key, never the empty file the winner has not yet filled in
    (it kept that empty key for its lifetime and sealed with it)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for attempt in range(5):
        path = tmp_path / f"try{attempt}" / "audit-signing.key"
        start, results = context.Event(), context.Queue()
        racers = [
            context.Process(target=_generate, args=(str(path), start, results)) for _ in range(6)
        ]
        for racer in racers:
            racer.start()
        start.set()
        keys = {results.get(timeout=30) for _ in racers}
        for racer in racers:
            racer.join(timeout=30)
        assert keys == {path.read_bytes()}
        assert len(path.read_bytes()) == 64
        assert [p.name for p in path.parent.iterdir()] == ["audit-signing.key"]
