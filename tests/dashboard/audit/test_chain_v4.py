"""Hash format 4: the text PostgreSQL builds from a stored row equals the one Python builds, on
awkward values; rows of format 3 written before the upgrade still verify beside format-4 rows;
tampering is found on either side of the seam, by the database pass and the Python pass alike.
"""

from __future__ import annotations

import enum
import json
from unittest import mock

import pytest
from django.db import connection

from dashboard.audit import chain, services
from dashboard.audit.chain import (
    V4_DIGEST_SQL,
    V4_TEXT_SQL,
    canonical_v4,
    content_of,
    jsonb_text,
    row_hash,
)
from dashboard.audit.chainer import chain_pending
from dashboard.audit.checkpoints import checkpoint_now
from dashboard.audit.integrity import chain_verify
from dashboard.audit.models import AuditEvent

Kind = AuditEvent.Kind
pytestmark = pytest.mark.postgres_too
TABLE = AuditEvent._meta.db_table

AWKWARD_TEXT = 'quote " backslash \\ newline\n tab\t nul-free \x01 \x1f é 漢字 🙂 \u2028 ='
AWKWARD_JSON = {
    "zz": [1, 2.5, 1e-07, 1e20, -0.0, True, False, None, "x"],
    "a": {"b": {}, "ccc": [], "é": "é"},
    "é": 3,
    "bb": AWKWARD_TEXT,
    "10": "ten",
    "9": "nine",
}


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.AUDIT_CHECKPOINT_EVERY_ROWS = 1000
    settings.AUDIT_CHECKPOINT_EVERY_SECONDS = 3600


def _awkward(mover) -> AuditEvent:
    event = services.audit_record(
        kind=Kind.OBSERVED,
        actor=mover,
        agent_ids=["a1", "ä2", AWKWARD_TEXT],
        campaign_ids_in=["{C1}"],
        reason=AWKWARD_TEXT,
        roster_before={"a1": ["{C1}"], "longer-key": [], "é": ["{C2}"]},
        message="",
        details=AWKWARD_JSON,
        duration_ms=0,
    )
    chain_pending()
    return AuditEvent.objects.get(pk=event.pk)


def test_a_row_is_written_in_format_4_and_verifies(db, mover):
    event = _awkward(mover)
    assert event.hash_version == 4
    assert row_hash(event.prev_hash, content_of(event)) == event.hash
    assert chain_verify().ok


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_builds_the_same_text_and_hash_as_python(db, mover):
    event = _awkward(mover)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {V4_TEXT_SQL}, encode({V4_DIGEST_SQL}, 'hex') FROM {TABLE} "  # noqa: S608
            "WHERE id = %s",
            [event.pk],
        )
        text, digest = cursor.fetchone()
    assert text == canonical_v4(content_of(event))
    assert digest == event.hash


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.parametrize(
    "value",
    [AWKWARD_JSON, [], {}, [AWKWARD_TEXT, {"b": 1, "a": [None]}], {"x": 0.1, "y": 123456789.25}],
)
def test_jsonb_text_is_how_postgresql_prints_jsonb(db, value):
    import json

    with connection.cursor() as cursor:
        cursor.execute("SELECT (%s::jsonb)::text", [json.dumps(value)])
        (printed,) = cursor.fetchone()
    assert jsonb_text(json.loads(json.dumps(value))) == printed


class _Kind(enum.StrEnum):
    A = "a"


class _Number(enum.IntEnum):
    THREE = 3


@pytest.mark.parametrize(
    "value",
    [
        AWKWARD_JSON,
        [],
        {},
        ["a1", AWKWARD_TEXT],
        ("a1", "a2"),
        {"a1": ["{C1}"], "longer-key": [], "é": ("{C2}",)},
        {"a1": "José", "a10": "Ann", "b": "", "🙂": "x"},
        [{"b": 1, "a": [None, True, False, 2**70]}],
        {1: "int key", "1": "text key"},  # one key after JSON's trip
        {_Kind.A: _Kind.A, "b": _Number.THREE},
        ["\ud83d\ude00"],  # JSON joins the pair into 🙂
        [{"\ud83d\ude00": "pair"}],
        {"x": 0.1, "y": -0.0, "z": 1e-07},
    ],
)
def test_a_json_column_s_text_is_the_one_after_json_s_trip(value):
    """``canonical_v4`` takes a JSON column's text without its trip through JSON when the trip
    cannot change the value; it must give what ``jsonb_text`` gives after the trip."""
    assert chain._stored_jsonb_text(value) == jsonb_text(json.loads(json.dumps(value)))


def _rows(n: int, mover, *, version: int) -> list[AuditEvent]:
    with mock.patch.object(services, "CHAIN_VERSION", version):
        events = [
            services.audit_record(kind=Kind.ROSTER_IMPORT, actor=mover, message=f"v{version} {i}")
            for i in range(n)
        ]
    chain_pending()
    return [AuditEvent.objects.get(pk=e.pk) for e in events]


@pytest.fixture
def upgraded(mover, django_capture_on_commit_callbacks):
    """Three rows written as format 3 (before the upgrade), four as format 4, a signed
    checkpoint at the sixth row and one row after it."""
    old = _rows(3, mover, version=3)
    new = _rows(3, mover, version=4)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint_now()
    after = _rows(1, mover, version=4)
    return old, new, after


def test_format_3_rows_before_the_upgrade_still_verify(db, upgraded):
    old, new, after = upgraded
    assert [e.hash_version for e in old + new + after] == [3, 3, 3, 4, 4, 4, 4]
    report = chain_verify()
    assert report.ok, report.problem
    assert (report.rows, report.first_seq, report.last_seq) == (7, 1, 7)


def _edit(event: AuditEvent, message: str = "edited") -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET message = %s WHERE id = %s",  # noqa: S608
            [message, event.pk],
        )


# format 3, the seam, format 4, the checkpoint's row, after it
@pytest.mark.parametrize("which", [0, 2, 3, 5, 6])
def test_a_changed_row_is_named_on_either_side_of_the_seam(db, upgraded, which):
    rows = [e for group in upgraded for e in group]
    _edit(rows[which])
    report = chain_verify()
    assert not report.ok
    assert (report.broken_id, report.broken_seq) == (rows[which].pk, rows[which].seq)
    assert "content does not match its hash" in report.problem, report.problem


def test_a_deleted_format_4_row_is_named_as_the_missing_seq(db, upgraded):
    _, new, _ = upgraded
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [new[1].pk])  # noqa: S608
    report = chain_verify()
    assert not report.ok
    assert report.problem == f"seq {new[1].seq} is missing (deleted?)"
    assert report.broken_id == new[2].pk


def test_a_format_4_row_relabelled_format_3_is_found(db, upgraded):
    """Changing hash_version down (to have the row checked by another rule) breaks it."""
    _, new, _ = upgraded
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET hash_version = 3 WHERE id = %s",  # noqa: S608
            [new[1].pk],
        )
    report = chain_verify()
    assert not report.ok
    assert report.broken_id == new[1].pk


def test_a_rehashed_format_4_row_contradicts_the_checkpoint(db, upgraded):
    """An edit rehashed to fit, with every later hash recomputed up to the checkpoint's row:
    the database pass reaches the checkpoint's row with another hash."""
    _, new, _ = upgraded
    _edit(new[0], "rewritten")
    prev = new[0].prev_hash
    for event in new:
        event = AuditEvent.objects.get(pk=event.pk)
        digest = row_hash(prev, {**content_of(event), "prev_hash": prev})
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE id = %s",  # noqa: S608
                [prev, digest, event.pk],
            )
        prev = digest
    report = chain_verify()
    assert not report.ok
    assert "hash differs from the signed checkpoint at seq 6" in report.problem
