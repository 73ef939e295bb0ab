"""The PostgreSQL word path of the agent, campaign and text filters (``audit.search``
vocabulary, migration 0008) and the id bounds of a time range: both must give exactly the rows
the plain substring and time tests give (which is what SQLite runs)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.audit import search, selectors
from dashboard.audit.models import AuditEvent, AuditWord
from dashboard.audit.search import fold, missing_words, rebuild_words
from dashboard.audit.selectors import ID_TIME_SKEW, audit_filter_from_params, audit_queryset
from dashboard.audit.services import audit_record

Kind = AuditEvent.Kind
pytestmark = pytest.mark.postgres_too
on_postgresql = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the word path is PostgreSQL's"
)

AGENTS = {
    "agent01234": "José Ortiz 01234",
    "agent00120": "Emma Müller 00120",
    "agent01200": "Gemma Núñez 01200",
    "eortiz": "Emmanuel Ortiz",
}
CAMPAIGNS = {"{C0040}": "Spring Upsell 0040", "{C0041}": "Upsell Église 0041", "{C1}": "Winback"}


@pytest.fixture
def rows(mover):
    made = []
    agents, campaigns = list(AGENTS), list(CAMPAIGNS)
    for i in range(12):
        a = [agents[i % 4], agents[(i * 3 + 1) % 4]][: 1 + i % 2]
        c_in, c_out = campaigns[i % 3], campaigns[(i + 1) % 3]
        made.append(
            audit_record(
                kind=Kind.SUCCEEDED if i % 3 else Kind.FAILED,
                actor=mover,
                agent_ids=a,
                campaign_ids_in=[c_in],
                campaign_ids_out=[c_out],
                agent_names={x: AGENTS[x] for x in a},
                campaign_names={c_in: CAMPAIGNS[c_in], c_out: CAMPAIGNS[c_out]},
                reason=["Winback ran dry", "Spring is short", "Not available now"][i % 3],
            )
        )
    return made


def found(**params) -> set[int]:
    audit_filter, errors = audit_filter_from_params(params)
    assert errors == {}
    return set(audit_queryset(audit_filter).values_list("pk", flat=True))


def by_substring(column: str, text: str) -> set[int]:
    return {e.pk for e in AuditEvent.objects.all() if fold(text) in getattr(e, column)}


TEXTS = [
    "agent01234", "agent0120", "0120", "emma", "EMMA müller", "ortiz 0123", "z 01234",
    "jose ortiz 01234", "gemma", "nobody", "a", "|", "ortiz | {", "ma mü", "se ortiz 012",
    "e ortiz", "o ortiz", "rtiz", "emma muller 00120 |",
]  # fmt: skip
CAMPAIGN_TEXTS = ["upsell 0040", "{c0040}", "0041", "eglise", "spring", "upsell", "back", "zz"]
Q_TEXTS = ["ran dry", "not available", "ru", "dry now", "winback"]


@pytest.mark.parametrize("text", TEXTS)
def test_agent_filter_is_the_substring_test(rows, text):
    assert found(agent=text) == by_substring("agent_search", text)


@pytest.mark.parametrize("text", CAMPAIGN_TEXTS)
def test_campaign_filter_is_the_substring_test(rows, text):
    assert found(campaign=text) == by_substring("campaign_search", text)


@pytest.mark.parametrize("text", Q_TEXTS)
def test_text_filter_is_the_substring_test(rows, text):
    assert found(q=text) == by_substring("search_text", text)


@on_postgresql
@pytest.mark.parametrize("path", ["fetch", "walk"])
@pytest.mark.parametrize("text", [*TEXTS, "spring 0041", "upsell 0040"])
def test_each_word_plan_is_the_substring_test(rows, text, path, monkeypatch):
    """Rows holding rare words are fetched through the word index; a common word walks the
    newest rows with ``strpos``; several common words go to the trigram index. Each gives
    the substring test's rows."""
    monkeypatch.setattr(selectors, "FEW_ROWS", 10**9 if path == "fetch" else -1)
    if selectors.narrowest_words("agent_search", fold(text))[0]:
        audit_filter, _ = audit_filter_from_params({"agent": text})
        sql = str(audit_queryset(audit_filter).query)
        single = " " not in fold(text)
        assert ("STRPOS" in sql) == (path == "walk" and single)
        assert ("string_to_array" in sql) == (path == "fetch")
    assert found(agent=text) == by_substring("agent_search", text)
    assert found(campaign=text) == by_substring("campaign_search", text)


def test_filters_match_some_rows_and_not_others(rows):
    """The comparisons above are not vacuous."""
    assert 0 < len(found(agent="agent01234")) < len(rows)
    assert 0 < len(found(campaign="upsell 0040")) < len(rows)
    assert found(agent="nobody") == set()


@on_postgresql
def test_narrow_text_goes_through_the_word_index_and_broad_text_does_not(rows, monkeypatch):
    def sql(**params) -> str:
        audit_filter, _ = audit_filter_from_params(params)
        with CaptureQueriesContext(connection) as queries:
            list(audit_queryset(audit_filter))
        return queries[-1]["sql"]

    assert "string_to_array" in sql(agent="agent01234")
    monkeypatch.setattr(selectors, "MOST_WORDS", 2)
    # Many words end with "e", one ("ortiz") begins with "ortiz": the narrower set is used.
    assert "string_to_array" in sql(agent="e ortiz")
    assert "string_to_array" not in sql(agent="o")


@on_postgresql
def test_every_inserted_row_adds_its_words(rows):
    words = set(AuditWord.objects.filter(column="agent_search").values_list("word", flat=True))
    assert {"agent01234", "jose", "ortiz", "01234", "|", "emmanuel"} <= words
    assert set(AuditWord.objects.values_list("column", flat=True)) == set(search.WORD_COLUMNS)
    assert missing_words(connection) == 0


@on_postgresql
def test_a_row_adds_each_new_word_once_per_column_it_is_in(rows):
    """Repeats inside a row are inserted once (migration 0011's DISTINCT), and a word already
    listed for one column is still added for another column that now holds it."""
    assert not AuditWord.objects.filter(word="zebrafinch").exists()
    assert AuditWord.objects.filter(column="campaign_search", word="winback").exists()
    assert not AuditWord.objects.filter(column="agent_search", word="winback").exists()
    audit_record(
        kind=Kind.REFUSED,
        agent_ids=["zf1", "zf2", "zf3"],
        agent_names={"zf1": "Zebrafinch", "zf2": "Zebrafinch", "zf3": "Zebrafinch Winback"},
        reason="zebrafinch zebrafinch",
    )
    listed = set(
        AuditWord.objects.filter(word__in=["zebrafinch", "winback"]).values_list("column", "word")
    )
    assert {("agent_search", "zebrafinch"), ("search_text", "zebrafinch")} <= listed
    assert ("agent_search", "winback") in listed
    assert missing_words(connection) == 0
    assert found(agent="zebrafinch") == found(q="zebrafinch") != set()


@on_postgresql
def test_a_lost_word_is_found_and_rebuilt(rows):
    expected = found(agent="agent01234")
    AuditWord.objects.filter(column="agent_search", word="agent01234").delete()
    selectors._vocabularies.clear()  # as a process started after the loss would see it
    assert found(agent="agent01234") == set()  # what the check below exists to catch
    assert missing_words(connection) == 1
    rebuild_words(connection)
    assert missing_words(connection) == 0
    assert found(agent="agent01234") == expected


def _at(moment, **fields) -> AuditEvent:
    return AuditEvent.objects.create(at=moment, kind=Kind.SUCCEEDED, **fields)


def test_time_range_with_id_bounds_is_the_time_test(db):
    """Ids follow time only to within ``ID_TIME_SKEW``: a row stamped a little before an
    older id's row is still found, and rows far outside bound the ids."""
    t0 = timezone.now() - timedelta(days=3)
    minute = timedelta(minutes=1)
    far_before = _at(t0 - ID_TIME_SKEW * 3)
    early = _at(t0 - minute)
    stamped_late = _at(t0 + 2 * minute)  # an id before rows stamped earlier, inside the range
    inside = [_at(t0 + minute), _at(t0 + 10 * minute), _at(t0 - 2 * minute + ID_TIME_SKEW / 2)]
    late = _at(t0 + 30 * minute)
    far_after = _at(t0 + ID_TIME_SKEW * 5)
    since, until = t0, t0 + 20 * minute
    expected = {e.pk for e in AuditEvent.objects.all() if since <= e.at <= until}
    assert expected == {*(e.pk for e in inside), stamped_late.pk}
    local = timezone.localtime
    params = {
        "since": local(since).strftime("%Y-%m-%dT%H:%M"),
        "until": local(until).strftime("%Y-%m-%dT%H:%M"),
    }
    assert found(**params) == expected
    assert found(since=params["since"]) == expected | {late.pk, far_after.pk}
    assert found(until=params["until"]) == expected | {far_before.pk, early.pk}
    audit_filter, _ = audit_filter_from_params(params)
    where = str(audit_queryset(audit_filter).query)
    assert f'"id" > {far_before.pk}' in where and f'"id" < {far_after.pk}' in where


@on_postgresql
def test_verify_audit_names_a_word_list_that_lost_a_word(rows):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from dashboard.audit.integrity import chain_verify

    assert chain_verify().ok
    AuditWord.objects.filter(column="agent_search", word="agent01234").delete()
    report = chain_verify()
    assert not report.ok
    assert report.where == "the filters' word list"
    assert "1 word(s) the rows hold are missing" in report.problem
    with pytest.raises(CommandError, match="filters' word list"):
        call_command("verify_audit")
    call_command("rebuild_audit_words")
    assert chain_verify().ok
