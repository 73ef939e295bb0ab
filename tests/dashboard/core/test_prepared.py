"""PreparedRead: the queryset's own statement and rows, its construction done once per shape.
PreparedInsert: the compiler's INSERT, its SQL built once."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import IntegerField, Q, Value
from django.db.models.sql import InsertQuery
from psycopg.types.numeric import Int4, IntNumeric

from dashboard.accounts.models import ApiToken
from dashboard.allocations.models import AllocationJob
from dashboard.core import prepared
from dashboard.core.prepared import MAX_LIST, PreparedInsert, PreparedRead
from dashboard.directory.models import Agent, Campaign
from tests.dashboard.conftest import statements

pytestmark = pytest.mark.postgres_too


def _counted(build):
    calls = []

    def counted(*args):
        calls.append(args)
        return build(*args)

    return counted, calls


def _names(ids, unlike="-"):
    agents = Agent.objects.filter(id__in=ids, active=True).exclude(name=unlike)
    return agents.order_by("id").values_list("id", "name")


def test_rows_are_the_querysets_and_the_query_is_built_once_per_shape(dir_small):
    build, calls = _counted(_names)
    read = PreparedRead(build)
    assert read.rows(["a1", "a3"], "-") == [("a1", "Agent 1"), ("a3", "Agent 3")]
    assert read.rows(["a4", "a2"], "-") == list(_names(["a4", "a2"]))
    assert len(calls) == 1, "same shape: compiled once"
    Agent.objects.filter(id="a2").update(active=False)
    assert read.rows(["a4", "a2"], "-") == [("a4", "Agent 4")], "values bound per call"
    assert read.rows(["a4", "a3"], "Agent 4") == [("a3", "Agent 3")]
    assert read.rows(["a1"], "-") == [("a1", "Agent 1")]
    assert len(calls) == 2, "a list of another length is another shape"
    with statements() as seen:
        read.rows(["a1", "a3"], "-")
    assert len(seen) == 1


def test_column_converters_apply_as_in_the_queryset(mover):
    used = datetime(2026, 12, 2, 17, 0, 5, tzinfo=UTC)
    ApiToken.objects.create(user=mover, key_hash="h" * 64, prefix="p", last_used_at=used)
    read = PreparedRead(
        lambda key: ApiToken.objects.filter(key_hash=key).values_list("last_used_at", "user_id")
    )
    for _ in range(2):
        assert read.rows("h" * 64) == [(used, mover.pk)]
    assert read.rows("x" * 64) == []


def test_a_union_with_constants_keeps_them_and_binds_each_part(dir_small):
    def build(agents, campaigns):
        none = Value(None, output_field=IntegerField())
        return (
            Agent.objects.filter(id__in=agents)
            .order_by()
            .values_list(Value(0), "id", "roster_version")
            .union(
                Campaign.objects.filter(id__in=campaigns)
                .order_by()
                .values_list(Value(1), "id", none),
                all=True,
            )
        )

    read = PreparedRead(build)
    for agents, campaigns in ((["a1"], ["{C1}", "{C3}"]), (["a2"], ["{C2}", "{C1}"])):
        assert sorted(read.rows(agents, campaigns)) == sorted(build(agents, campaigns))
    assert sorted(read.rows(["a2"], ["{C2}", "{C1}"])) == [
        (0, "a2", 0),
        (1, "{C1}", None),
        (1, "{C2}", None),
    ]


def test_an_empty_list_reads_nothing_as_the_orm_does(dir_small):
    read = PreparedRead(_names)
    with statements() as seen:
        assert read.rows([], "-") == []
        assert read.rows([], "-") == []
    assert seen == []


def test_a_value_used_twice_is_not_compiled_ahead_but_still_answers(dir_small):
    def twice(text):
        return Agent.objects.filter(Q(id=text) | Q(name=text)).order_by("id").values_list("id")

    build, calls = _counted(twice)
    read = PreparedRead(build)
    assert read.rows("a1") == [("a1",)]
    assert read.rows("Agent 2") == [("a2",)], "not bound into a kept statement"
    assert len(calls) == 3, "the markers' compile, then the queryset built on each call"


def test_long_lists_are_built_as_before(dir_small):
    build, calls = _counted(_names)
    read = PreparedRead(build)
    ids = ["a1", *(f"x{i}" for i in range(MAX_LIST))]
    assert read.rows(ids, "-") == [("a1", "Agent 1")]
    assert read.rows(ids, "-") == [("a1", "Agent 1")]
    assert len(calls) == 2


def test_a_positive_integer_column_is_read_with_each_calls_value(dir_small):
    Agent.objects.filter(id="a1").update(roster_version=3)
    read = PreparedRead(
        lambda agent, version: (
            Agent.objects.filter(id=agent, roster_version=version).order_by().values_list("id")
        )
    )
    assert read.rows("a1", 3) == [("a1",)], "a marker out of the column's range read nothing"
    assert read.rows("a1", 2) == []
    assert read.rows("a1", 3) == [("a1",)]


@pytest.mark.parametrize("value", [2**31, 2**63, 2140019627059081647642964083605504, -(2**64)])
def test_an_integer_out_of_a_columns_range_reads_what_the_orm_reads(transactional_db, value):
    """As Django does (a lookup outside the column's range matches nothing), not an error from
    the server (the fuzz drill's GET /api/allocations/<34 digits>: a 500). 2**31 is the edge
    of the kept range, inside a bigint column's: read as the ORM reads it, whichever way it
    goes (the cases from 2**63 up are the ones sent to the server before the fix)."""
    read = PreparedRead(lambda job_id: AllocationJob.objects.filter(pk=job_id).values_list("id"))
    assert read.rows(1) == []  # the int shape is kept (and prepared on PostgreSQL) first
    assert read.rows(value) == list(AllocationJob.objects.filter(pk=value).values_list("id"))
    assert read.rows(value) == []


# -- PreparedRead on PostgreSQL: a server-side prepared statement -------------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="server-side statements are PostgreSQL's"
)


def _prepared_on_server() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@postgresql_only
def test_a_kept_shape_is_prepared_once_per_connection_and_executed(transactional_db, dir_small):
    read = PreparedRead(_names)
    with statements() as seen:
        assert read.rows(["a1", "a3"], "-") == [("a1", "Agent 1"), ("a3", "Agent 3")]
        assert read.rows(["a4", "a2"], "Agent 4") == [("a2", "Agent 2")]
    assert len(seen) == 2, "the PREPARE is not one of the statements a caller runs"
    assert all(s.startswith("EXECUTE dashboard_read_") for s in seen), seen
    assert '"directory_agent"' in seen[0], "the statement's own text rides along"
    [(_, _, _, _, server)] = read._local.default.values()
    assert server.name in _prepared_on_server()

    connection.close()  # a new session has none of the old one's statements
    assert server.name not in _prepared_on_server()
    assert read.rows(["a2"], "-") == [("a2", "Agent 2")], "another shape, prepared anew"
    assert read.rows(["a1", "a3"], "-") == [("a1", "Agent 1"), ("a3", "Agent 3")]
    assert server.name in _prepared_on_server()


@postgresql_only
def test_a_statement_prepared_in_a_rolled_back_transaction_still_runs(dir_small):
    read = PreparedRead(_names)
    with transaction.atomic():
        assert read.rows(["a1"], "-") == [("a1", "Agent 1")]  # prepared here
        transaction.set_rollback(True)
    with statements() as seen:
        assert read.rows(["a2"], "-") == [("a2", "Agent 2")]
    assert seen[0].startswith("EXECUTE"), "PREPARE is not transactional: no second one needed"


@postgresql_only
def test_integer_and_constant_parameters_keep_their_types(dir_small):
    def build(agent, version):
        return (
            Agent.objects.filter(id=agent, roster_version=version)
            .order_by()
            .values_list(Value(7, output_field=IntegerField()), "id")
        )

    version = Agent.objects.get(id="a1").roster_version
    read = PreparedRead(build)
    for _ in range(7):  # past the five custom plans, on PostgreSQL's generic one
        assert read.rows("a1", version) == [(7, "a1")] == list(build("a1", version))
    assert read.rows("a1", version + 1) == []


def _alter_agent_name(cursor, length: int) -> None:
    cursor.execute(f"ALTER TABLE directory_agent ALTER name TYPE varchar({length})")


@postgresql_only
def test_a_statement_a_migration_made_stale_is_prepared_again(transactional_db, dir_small):
    # A migration that changes a column the statement reads (here its length) makes PostgreSQL
    # refuse the prepared statement on every later EXECUTE of that session; the read answers
    # unprepared once, then from a statement prepared anew, on the same connection.
    read = PreparedRead(_names)
    assert read.rows(["a1"], "-") == [("a1", "Agent 1")]
    [(_, _, _, _, server)] = read._local.default.values()
    stale = server.name
    try:
        with connection.cursor() as cursor:
            _alter_agent_name(cursor, 300)
        with statements() as seen:
            assert read.rows(["a1"], "-") == [("a1", "Agent 1")]
            assert read.rows(["a2"], "-") == [("a2", "Agent 2")]
    finally:
        with connection.cursor() as cursor:
            _alter_agent_name(cursor, 200)
    assert seen[0].startswith("EXECUTE " + stale), "the stale statement was tried first"
    assert seen[1].startswith("SELECT"), "then the plain statement answered"
    assert seen[2].startswith("EXECUTE dashboard_read_") and stale not in seen[2]
    assert server.name in _prepared_on_server()


@postgresql_only
def test_a_stale_statement_inside_a_transaction_fails_that_transaction_only(
    transactional_db, dir_small
):
    read = PreparedRead(_names)
    assert read.rows(["a1"], "-") == [("a1", "Agent 1")]
    [(_, _, _, _, server)] = read._local.default.values()
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE {server.name}")  # gone behind the read's back
    with pytest.raises(DatabaseError), transaction.atomic():
        read.rows(["a1"], "-")  # the transaction is aborted: nothing else can run in it
    assert read.rows(["a1"], "-") == [("a1", "Agent 1")], "prepared anew after it"


@postgresql_only
def test_a_prepare_whose_answer_was_lost_or_that_postgresql_refuses(transactional_db, dir_small):
    read = PreparedRead(_names)
    assert read.rows(["a1"], "-") == [("a1", "Agent 1")]
    [(_, _, _, _, server)] = read._local.default.values()
    prepared._PREPARED_ON[connection.connection].discard(server.name)  # as if the answer was lost
    assert read.rows(["a2"], "-") == [("a2", "Agent 2")], "name taken: answered unprepared"
    assert read.rows(["a3"], "-") == [("a3", "Agent 3")]
    assert server.name in _prepared_on_server() and not server.off

    # A parameter PostgreSQL cannot type ($1 IS NULL): the shape runs unprepared from then on.
    refused = prepared._ServerStatement.of("SELECT 1 WHERE %s IS NULL", [""])
    with connection.cursor() as cursor:
        assert prepared._run_prepared(connection, cursor, refused, [None]) is False
        assert refused.off
        assert prepared._run_prepared(connection, cursor, refused, [None]) is False


@postgresql_only
def test_only_the_first_shapes_of_a_read_are_prepared_on_the_server(transactional_db, dir_small):
    read = PreparedRead(_names)
    for n in range(1, prepared.MAX_SERVER_SHAPES + 3):
        assert read.rows(["a1"] * n, "-") == [("a1", "Agent 1")]
    servers = [entry[4] for entry in read._local.default.values()]
    assert len(servers) == prepared.MAX_SERVER_SHAPES + 2
    assert sum(s is not None for s in servers) == prepared.MAX_SERVER_SHAPES
    with statements() as seen:
        read.rows(["a2"] * (prepared.MAX_SERVER_SHAPES + 2), "-")
    assert seen[0].startswith("SELECT"), "a shape past the limit runs compiled, unprepared"


@postgresql_only
def test_not_prepared_where_the_driver_prepares_or_behind_a_pooler(dir_small, monkeypatch):
    read = PreparedRead(_names)
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", 5)
    with statements() as seen:
        assert read.rows(["a1"], "-") == [("a1", "Agent 1")]
    assert seen[0].startswith("SELECT"), "psycopg deallocates all at each rollback then"
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)  # a pooler
    other = PreparedRead(_names)
    with statements() as seen:
        assert other.rows(["a1"], "-") == [("a1", "Agent 1")]
    assert seen[0].startswith("SELECT")


def test_placeholders_are_numbered_and_a_literal_percent_kept():
    assert prepared._numbered("a = %s AND b LIKE '5%%' AND c IN (%s, %s)") == (
        "a = $1 AND b LIKE '5%' AND c IN ($2, $3)",
        3,
    )
    assert prepared._numbered("a = %d")[1] == -1, "an unknown placeholder is not rewritten"
    assert prepared._ServerStatement.of("a = %s", [datetime.now(UTC)]) is None
    assert prepared._ServerStatement.of("a = %s", [IntNumeric(5)]) is None, "not guessed at"
    assert (
        "(int4, int8, unknown)"
        in prepared._ServerStatement.of("a = %s AND b = %s AND c = %s", [Int4(1), 2, "x"]).prepare
    )


# -- PreparedInsert -------------------------------------------------------------------------------


def _job(user, **fields):
    return AllocationJob(
        requested_by=user,
        agent_ids=["a1", "a2"],
        campaign_ids_in=["{C2}"],
        expected_versions={"a1": 3},
        next_attempt_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        **fields,
    )


def _compiled(model, fields, obj):
    query = InsertQuery(model)
    query.insert_values(fields, [obj])
    [(sql, params)] = query.get_compiler("default").as_sql()
    return sql, tuple(params)


def _values(params):
    return [getattr(p, "obj", p) for p in params]  # the driver's JSON wrapper, unwrapped


def test_an_insert_is_the_compilers_and_its_sql_is_kept(mover):
    fields = [f for f in AllocationJob._meta.concrete_fields if f.attname != "id"]
    insert = PreparedInsert(AllocationJob, fields)
    now = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=now):
        insert.statement(_job(mover, reason="first"))  # compiled, checked, kept
        with mock.patch.object(InsertQuery, "get_compiler", side_effect=AssertionError):
            sql, params = insert.statement(_job(mover, reason="second", idempotency_key="k"))
        expected_sql, expected = _compiled(
            AllocationJob, fields, _job(mover, reason="second", idempotency_key="k")
        )
    assert sql == expected_sql
    assert _values(params) == _values(expected)
    assert "second" in params and "k" in params

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    job = AllocationJob.objects.get(reason="second")
    assert (job.agent_ids, job.expected_versions, job.created_at) == (["a1", "a2"], {"a1": 3}, now)


def test_an_sql_value_stands_in_for_the_field(mover):
    fields = list(AllocationJob._meta.concrete_fields)
    insert = PreparedInsert(AllocationJob, fields, sql_values={"id": "4000 + 2"})
    for reason in ("one", "two"):  # compiled, then kept
        sql, params = insert.statement(_job(mover, reason=reason))
        assert "4000 + 2" in sql
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        assert AllocationJob.objects.get(reason=reason).pk == 4002
        AllocationJob.objects.filter(pk=4002).delete()


def test_a_model_whose_values_differ_from_the_compilers_is_compiled_every_time(mover):
    fields = [f for f in AllocationJob._meta.concrete_fields if f.attname != "id"]
    insert = PreparedInsert(AllocationJob, fields)
    calls = []
    real = PreparedInsert._compile

    def counted(self, obj, using):
        calls.append(obj)
        return real(self, obj, using)

    with (
        mock.patch.object(PreparedInsert, "_compile", counted),
        mock.patch.object(prepared, "_same", return_value=False),
    ):
        insert.statement(_job(mover, reason="a"))
        _, params = insert.statement(_job(mover, reason="b"))
    assert len(calls) == 2, "not kept: compiled again"
    assert "b" in params
