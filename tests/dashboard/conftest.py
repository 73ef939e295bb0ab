"""Named users (mover: supervisor, audrey: auditor, nobody: no role) and a small directory."""

from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from dashboard.directory.models import Agent, Campaign, RosterEntry, Workgroup


@pytest.fixture
def mover(django_user_model):
    user = django_user_model.objects.create_user("mover", password="pw-for-tests-only")
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    return user


@pytest.fixture
def dir_small(db):
    """Two workgroups, three campaigns, four agents; a1 and a2 in c1."""
    sales = Workgroup.objects.create(id="Sales", name="Sales")
    care = Workgroup.objects.create(id="Care", name="Care")
    c1 = Campaign.objects.create(id="{C1}", name="Renewals", state="on", workgroup=sales)
    c2 = Campaign.objects.create(id="{C2}", name="Winback", state="on", workgroup=sales)
    c3 = Campaign.objects.create(id="{C3}", name="Surveys", state="off", workgroup=care)
    agents = []
    for i, group in enumerate([sales, sales, care, care], start=1):
        agent = Agent.objects.create(id=f"a{i}", name=f"Agent {i}")
        agent.workgroups.add(group)
        agents.append(agent)
    RosterEntry.objects.create(agent=agents[0], campaign=c1)
    RosterEntry.objects.create(agent=agents[1], campaign=c1)
    return {"campaigns": [c1, c2, c3], "agents": agents, "groups": [sales, care]}


def user_with_role(django_user_model, username: str, role: str | None):
    user = django_user_model.objects.create_user(username, password="pw-for-tests-only")
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def auditor(django_user_model):
    return user_with_role(django_user_model, "audrey", "auditor")


@pytest.fixture
def no_role_user(django_user_model):
    return user_with_role(django_user_model, "nobody", None)


@pytest.fixture
def admin_user_role(django_user_model):
    return user_with_role(django_user_model, "ada", "admin")


@contextmanager
def statements():
    """Every SQL statement run on the default connection inside the block, in order."""
    seen: list[str] = []

    def count(run, sql, params, many, context):
        seen.append(sql)
        return run(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield seen
