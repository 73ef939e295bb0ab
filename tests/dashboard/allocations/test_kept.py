"""allocations.kept: a statement compiled once per shape binds each call's own values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F

from dashboard.allocations import coalesce, together
from dashboard.allocations.kept import Fixed, Kept
from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import Agent

pytestmark = pytest.mark.postgres_too


@pytest.fixture
def agents(db):
    return [Agent.objects.create(id=f"a{i}", name=f"Agent {i}") for i in range(4)]


class Counted:
    """A build function that counts its calls."""

    def __init__(self, build):
        self.build, self.calls = build, 0

    def __call__(self, *args):
        self.calls += 1
        return self.build(*args)


def test_each_call_binds_its_own_values_and_compiles_once_per_shape(agents):
    build = Counted(
        lambda ids, version, name: together.select(
            Agent.objects.filter(id__any_of=ids, roster_version__gte=version)
            .exclude(name=name)
            .order_by("id")
            .values_list("id", "roster_version")
        )
    )
    kept = Kept(build)
    Agent.objects.filter(id="a2").update(roster_version=5)
    first = together.run([kept(["a0", "a1"], 0, "Agent 0")])[0].result
    second = together.run([kept(["a2", "a3"], 5, "nobody")])[0].result
    third = together.run([kept(["a1", "a3"], 0, "Agent 3")])[0].result
    assert (first, second, third) == ([("a1", 0)], [("a2", 5)], [("a1", 0)])
    # PostgreSQL: the first call builds twice (its values and the markers), the rest never.
    assert build.calls == (2 if connection.vendor == "postgresql" else 3)
    together.run([kept(["a0"], 0, "x")])  # another shape: a list of one
    assert build.calls == 4  # PostgreSQL 2 + 2, SQLite 3 + 1


def test_an_update_with_wrapped_parameters_writes_each_calls_values(agents):
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    user = User.objects.create_user("someone")
    jobs = [
        AllocationJob.objects.create(requested_by=user, agent_ids=[a.id], campaign_ids_in=["c"])
        for a in agents[:3]
    ]
    kept = Kept(
        lambda job_id, attempts, token, at: together.update(
            AllocationJob.objects.filter(pk=job_id),
            attempts=attempts,
            lease_token=token,
            started_at=at,
            lease_expires_at=at,
        )
    )
    with transaction.atomic():
        for i, job in enumerate(jobs):
            assert (
                together.run([kept(job.pk, i + 1, 10 * i, when + timedelta(seconds=i))])[0].result
                == 1
            )
    got = list(
        AllocationJob.objects.order_by("pk").values_list("attempts", "lease_token", "started_at")
    )
    assert got == [(i + 1, 10 * i, when + timedelta(seconds=i)) for i in range(3)]


def test_json_values_and_several_lists_are_bound(agents):
    user = User.objects.create_user("someone")
    now = datetime.now(UTC)
    a = AllocationJob.objects.create(
        requested_by=user, agent_ids=["a0"], campaign_ids_in=["x"], campaign_ids_out=["y"]
    )
    b = AllocationJob.objects.create(
        requested_by=user, agent_ids=["a1"], campaign_ids_in=["p"], campaign_ids_out=["q"]
    )
    AllocationJob.objects.update(next_attempt_at=now - timedelta(seconds=1))
    probe = Kept(
        lambda job_id, ins, outs, at: together.select(
            coalesce._candidates_of(job_id, ins, outs, at).order_by("pk").values_list("pk")
        )
    )
    assert together.run([probe(0, ["x"], ["y"], now)])[0].result == [(a.pk,)]
    assert together.run([probe(0, ["p"], ["q"], now)])[0].result == [(b.pk,)]
    assert together.run([probe(b.pk, ["p"], ["q"], now)])[0].result == []
    assert together.run([probe(0, ["p"], ["q"], now - timedelta(minutes=1))])[0].result == []


def test_a_value_that_changes_the_sql_is_never_kept(agents):
    """A slice's bounds are written into the SQL, not passed as parameters: built every call."""
    build = Counted(
        lambda n, name: together.select(
            Agent.objects.exclude(name=name).order_by("id").values_list("id")[:n]
        )
    )
    kept = Kept(build)
    assert together.run([kept(1, "nobody")])[0].result == [("a0",)]
    assert together.run([kept(3, "nobody")])[0].result == [("a0",), ("a1",), ("a2",)]
    assert together.run([kept(2, "Agent 0")])[0].result == [("a1",), ("a2",)]
    assert build.calls == (4 if connection.vendor == "postgresql" else 3)


def test_models_come_with_their_related_rows_and_annotations(agents):
    user = User.objects.create_user("someone")
    job = AllocationJob.objects.create(requested_by=user, agent_ids=["a0"])
    query = (
        AllocationJob.objects.select_related("requested_by")
        .annotate(next_try=F("attempts") + 1)
        .filter(pk=job.pk)
    )
    [got] = together.run([together.select_models(query)])[0].result
    [want] = list(query)
    assert got.pk == want.pk and got.next_try == want.next_try == 1
    assert got.agent_ids == ["a0"] and got._state.adding is False
    assert "requested_by" in got._state.fields_cache and got.requested_by.username == "someone"


def test_a_fixed_argument_is_part_of_the_shape(agents):
    """A LIMIT written into the SQL is kept once per value it takes (``Fixed``)."""
    build = Counted(
        lambda name, n: together.select(
            Agent.objects.exclude(name=name).order_by("id").values_list("id")[:n]
        )
    )
    kept = Kept(build)
    assert together.run([kept("nobody", Fixed(2))])[0].result == [("a0",), ("a1",)]
    assert together.run([kept("Agent 0", Fixed(2))])[0].result == [("a1",), ("a2",)]
    assert together.run([kept("Agent 1", Fixed(3))])[0].result == [("a0",), ("a2",), ("a3",)]
    assert build.calls == (4 if connection.vendor == "postgresql" else 3)


def test_a_build_that_converts_its_values_is_not_kept_and_still_runs(agents):
    """A build that turns a value into a number fails on the markers: the call gets the
    statement built from its own values (a job must not fail for the cache's sake)."""
    build = Counted(
        lambda version: together.select(
            Agent.objects.filter(roster_version=int(version)).order_by("id").values_list("id")
        )
    )
    kept = Kept(build)
    assert len(together.run([kept("0")])[0].result) == 4
    assert together.run([kept("7")])[0].result == []


def test_a_full_cache_builds_new_shapes_once(agents, monkeypatch):
    from dashboard.allocations import kept as kept_module

    monkeypatch.setattr(kept_module, "MAX_SHAPES", 1)
    build = Counted(
        lambda ids: together.select(Agent.objects.filter(id__any_of=ids).values_list("id"))
    )
    kept = Kept(build)
    together.run([kept(["a0"])])  # kept (PostgreSQL: built twice)
    calls = build.calls
    for n in (2, 3, 4):  # new shapes, no room left: one build each
        assert len(together.run([kept([f"a{i}" for i in range(n)])])[0].result) == n
    assert build.calls == calls + 3
