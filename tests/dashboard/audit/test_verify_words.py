"""``verify_audit``'s check of the filters' word list from a signed word checkpoint
(``audit.words_check``): after one full check, only the rows after the checkpoint are read, and
a word deleted from the list is still caught whether its row is before the checkpoint or after.

Attacks are raw SQL on the test database, as an insider with database access would do them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.audit import words_check
from dashboard.audit.integrity import chain_verify
from dashboard.audit.models import AuditEvent, AuditWord
from dashboard.audit.search import missing_words
from dashboard.audit.services import audit_record

Kind = AuditEvent.Kind
pytestmark = [
    pytest.mark.postgres_too,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the word list is PostgreSQL's"),
]
WORD_LOST = "the filters' word list"


def record(mover, reason: str, agent: str = "a1") -> AuditEvent:
    return audit_record(
        kind=Kind.SUCCEEDED,
        actor=mover,
        agent_ids=[agent],
        campaign_ids_in=["{C2}"],
        campaign_ids_out=["{C1}"],
        agent_names={agent: f"Agent {agent}"},
        campaign_names={"{C2}": "Winback", "{C1}": "Renewals"},
        reason=reason,
    )


def verify_seeing_sql():
    with CaptureQueriesContext(connection) as queries:
        report = chain_verify()
    sql = [q["sql"] for q in queries.captured_queries]
    full = any("UNION SELECT '|' WHERE EXISTS" in s for s in sql)  # _full_missing_sql
    incremental = any("WHERE seq IS NULL UNION ALL" in s for s in sql)
    assert full != incremental, "exactly one of the two word checks runs"
    return report, ("full" if full else "incremental")


def lose(word: str, column: str = "search_text") -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            'DELETE FROM audit_auditword WHERE "column" = %s AND word = %s', [column, word]
        )
        assert cursor.rowcount == 1


@pytest.fixture
def checkpointed(mover):
    """Two rows, each with a word of its own, verified once in full (which checkpoints the
    word list at the last row)."""
    record(mover, "aardvark ran dry")
    record(mover, "badger short", agent="a2")
    report, how = verify_seeing_sql()
    assert report.ok and how == "full" and report.words_checked == "every row"
    return report


def test_the_next_verify_reads_only_the_rows_after_the_word_checkpoint(checkpointed, mover):
    report, how = verify_seeing_sql()
    assert report.ok and how == "incremental"
    assert report.words_checked == f"the rows after seq {checkpointed.last_seq} (word checkpoint)"
    record(mover, "civet")
    report, how = verify_seeing_sql()
    assert report.ok and how == "incremental"


def test_a_lost_word_of_a_row_before_the_word_checkpoint_is_caught(checkpointed, mover):
    record(mover, "later rows")  # after the checkpoint, all its words present
    lose("aardvark")  # held only by the first row, which the checkpoint covers
    report, how = verify_seeing_sql()
    assert not report.ok and report.where == WORD_LOST
    assert "1 word(s) the rows hold are missing" in report.problem
    assert how == "full"  # the list no longer matches the checkpoint's digest


def test_a_lost_word_of_a_row_after_the_word_checkpoint_is_caught(checkpointed, mover):
    record(mover, "dingo")
    lose("dingo")
    report, how = verify_seeing_sql()
    assert not report.ok and report.where == WORD_LOST
    assert "1 word(s) the rows hold are missing" in report.problem
    assert how == "incremental"  # the list's old entries still match: the new rows caught it
    record(mover, "emu", agent="a3")
    lose("emu")
    lose("a3", "agent_search")
    report, how = verify_seeing_sql()
    assert "3 word(s) the rows hold are missing" in report.problem  # dingo, emu, a3
    assert how == "incremental"


def test_a_word_checkpoint_refitted_without_the_key_is_not_trusted(checkpointed):
    lose("badger")
    words, word_id, digest = _digest(2**63 - 1)
    with connection.cursor() as cursor:  # the attacker refits the checkpoint to the list
        cursor.execute(
            "UPDATE audit_word_checkpoint SET words = %s, word_id = %s, digest = %s",
            [words, word_id, digest],
        )
    report, how = verify_seeing_sql()
    assert not report.ok and report.where == WORD_LOST and how == "full"
    with connection.cursor() as cursor:  # or deletes the checkpoints
        cursor.execute("DELETE FROM audit_word_checkpoint")
    report, how = verify_seeing_sql()
    assert not report.ok and report.where == WORD_LOST and how == "full"


def test_a_changed_word_is_caught(checkpointed):
    AuditWord.objects.filter(column="search_text", word="aardvark").update(word="aardvarc")
    report, how = verify_seeing_sql()
    assert not report.ok and report.where == WORD_LOST and how == "full"


def test_a_repaired_list_passes_and_is_checkpointed_afresh(checkpointed):
    lose("aardvark")
    assert not chain_verify().ok
    call_command("rebuild_audit_words")  # the word comes back with a new id
    report, how = verify_seeing_sql()
    assert report.ok and how == "full"
    report, how = verify_seeing_sql()
    assert report.ok and how == "incremental"


def test_the_digest_is_of_the_list_as_stored(checkpointed):
    """The checkpoint's digest is the SHA-256 of ``id column word`` lines in id order."""
    import hashlib

    rows = AuditWord.objects.order_by("id").values_list("id", "column", "word")
    text = "\n".join(f"{i} {c} {w}" for i, c, w in rows)
    with connection.cursor() as cursor:
        cursor.execute("SELECT words, word_id, digest FROM audit_word_checkpoint")
        [(words, word_id, digest)] = cursor.fetchall()
    assert (words, word_id) == (len(rows), rows[len(rows) - 1][0])
    assert digest == hashlib.sha256(text.encode()).hexdigest()


def _digest(upto: int):
    with connection.cursor() as cursor:
        cursor.execute(words_check.DIGEST_SQL, [upto])
        return cursor.fetchone()


def test_the_full_check_counts_what_missing_words_counts(mover):
    """The full check splits the distinct " | " parts, not every row's words: it must find the
    same words missing, "|" and words next to a lone or doubled "|" included. Each word of the
    list is lost in turn (in a savepoint) and both counts are compared."""
    from django.db import transaction

    record(mover, "x | | y")
    record(mover, "ends with |", agent="a2")
    record(mover, "| starts", agent="a3")
    record(mover, "|")
    record(mover, "one | two")
    audit_record(  # two agents: parts joined with " | " in agent_search, one name with a "|"
        kind=Kind.SUCCEEDED,
        actor=mover,
        agent_ids=["a4", "a5"],
        agent_names={"a4": "Pipe | Name", "a5": "Five |"},
    )
    assert words_check.missing_everywhere(connection) == missing_words(connection) == 0
    entries = list(AuditWord.objects.values_list("id", "column", "word"))
    assert ("search_text", "|") in {(c, w) for _, c, w in entries}
    for pk, column, word in entries:
        with transaction.atomic():
            AuditWord.objects.filter(pk=pk).delete()
            assert words_check.missing_everywhere(connection) == missing_words(connection) == 1, (
                column,
                word,
            )
            transaction.set_rollback(True)
    AuditWord.objects.all().delete()
    assert words_check.missing_everywhere(connection) == missing_words(connection) == len(entries)


def test_verify_audit_says_which_word_check_it_ran(mover, capsys):
    record(mover, "aardvark ran dry")
    call_command("verify_audit")  # the first run: no word checkpoint yet
    assert "Filters' word list holds every word of the rows; checked: every row." in (
        capsys.readouterr().out
    )
    call_command("verify_audit")
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert f"checked: the rows after seq {last} (word checkpoint)." in capsys.readouterr().out


def test_rebuild_audit_words_counts_and_restores_what_was_lost(mover, capsys):
    record(mover, "aardvark ran dry")
    record(mover, "badger short", agent="a2")
    lose("aardvark")
    lose("a2", "agent_search")
    assert words_check.missing_everywhere(connection) == 2
    call_command("rebuild_audit_words")
    assert "Word list rebuilt: 2 missing word(s) restored." in capsys.readouterr().out
    assert words_check.missing_everywhere(connection) == missing_words(connection) == 0
    call_command("rebuild_audit_words")  # idempotent
    assert "Word list rebuilt: 0 missing word(s) restored." in capsys.readouterr().out
