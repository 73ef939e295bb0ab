"""Agents' kept ICWS session tokens are sealed at rest: the database row holds none of them, a
rotated key still opens them, a lost key asks the agent to sign in again, the migration seals
rows kept before, and production with CIC sign-in refuses to start without a valid key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dashboard.accounts import cic_sessions, session_seal
from dashboard.accounts.models import AgentIcwsSession
from icws_client.simulator.seed import AGENT_PASSWORD
from tests.ops.test_deploy_check import ROOT, _deploy_check

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_too]


@pytest.fixture
def signed_in_agent(client, settings, sim):
    settings.ICWS_BASE_URL = sim.base_url
    settings.ICWS_TIMEOUT = 2.0
    settings.DASHBOARD_AUTH = "both"
    agent_id = sim.state()["agents"][0]["id"]
    response = client.post("/accounts/login/", {"username": agent_id, "password": AGENT_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/me/"
    return AgentIcwsSession.objects.get(user__username=agent_id)


def _raw_row(pk) -> str:
    """Every column of the row as the database returns it, as one text."""
    table = connection.ops.quote_name(AgentIcwsSession._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608 - our name
        return " ".join(str(value) for value in cursor.fetchone())


def test_the_database_row_holds_no_token_of_the_kept_session(signed_in_agent):
    tokens = cic_sessions.agent_client(signed_in_agent.user).session_tokens()
    assert tokens.session_id and tokens.csrf_token and tokens.cookie
    raw = _raw_row(signed_in_agent.pk)
    for secret in (tokens.session_id, tokens.csrf_token, tokens.cookie):
        assert secret not in raw
    assert signed_in_agent.cic_user_id in raw  # who and where stay readable
    assert {f.name for f in AgentIcwsSession._meta.fields} >= {"sealed"}
    assert not {"session_id", "csrf_token", "cookie"} & {
        f.name for f in AgentIcwsSession._meta.fields
    }


def test_a_rotated_key_still_opens_and_a_lost_key_asks_to_sign_in_again(signed_in_agent, settings):
    tokens = session_seal.unseal(signed_in_agent.sealed)
    given = Fernet.generate_key().decode()
    settings.ICWS_SESSION_KEYS = [given]
    assert cic_sessions.agent_client(signed_in_agent.user) is None  # sealed under another key
    AgentIcwsSession.objects.update(sealed=session_seal.seal(**tokens))
    row = AgentIcwsSession.objects.get()
    assert cic_sessions.agent_client(row.user).session_tokens().cookie == tokens["cookie"]
    settings.ICWS_SESSION_KEYS = [Fernet.generate_key().decode(), given]  # new one in front
    assert cic_sessions.agent_client(row.user) is not None
    settings.ICWS_SESSION_KEYS = [Fernet.generate_key().decode()]  # the old one dropped too soon
    assert cic_sessions.agent_client(row.user) is None
    cic_sessions.close(row.user)  # what it cannot open it still forgets
    assert not AgentIcwsSession.objects.exists()


def test_an_edited_sealed_value_opens_to_nothing(signed_in_agent):
    sealed = signed_in_agent.sealed
    assert session_seal.unseal(sealed[:-4] + ("AAAA" if sealed[-4:] != "AAAA" else "BBBB")) is None
    assert session_seal.unseal("not a token") is None


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_rows_kept_before_and_drops_the_clear_columns(django_user_model):
    user = django_user_model.objects.create(username="agent.old")
    executor = MigrationExecutor(connection)
    before, after = [("accounts", "0002_cic_sign_in")], [("accounts", "0003_cleanup")]
    try:
        executor.migrate(before)
        Old = executor.loader.project_state(before).apps.get_model("accounts", "AgentIcwsSession")
        Old.objects.create(
            user_id=user.pk,
            cic_user_id="agent.old",
            host="cic1",
            session_id="sess-1234567890",
            csrf_token="csrf-abcdefghij",
            cookie="icws_sess-1234567890=cookie-zyxwvut",
        )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        row = AgentIcwsSession.objects.get(user=user)
        raw = _raw_row(row.pk)
        for secret in ("sess-1234567890", "csrf-abcdefghij", "cookie-zyxwvut"):
            assert secret not in raw
        assert session_seal.unseal(row.sealed) == {
            "session_id": "sess-1234567890",
            "csrf_token": "csrf-abcdefghij",
            "cookie": "icws_sess-1234567890=cookie-zyxwvut",
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _start_up(**env: str) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "s" * 50,
        "DJANGO_ALLOWED_HOSTS": "dashboard.example.com",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_with_cic_sign_in_needs_a_valid_key_and_then_deploy_checks_clean():
    missing = _start_up(DASHBOARD_AUTH="cic")
    assert missing.returncode != 0
    assert "ICWS_SESSION_KEY must be set (or ICWS_SESSION_KEY_FILE) with DASHBOARD_AUTH=cic" in (
        missing.stderr
    )
    bad = _start_up(DASHBOARD_AUTH="both", ICWS_SESSION_KEY="not-a-fernet-key")
    assert bad.returncode != 0
    assert "ICWS_SESSION_KEY must be a comma list of Fernet keys" in bad.stderr
    assert "not-a-fernet-key" not in bad.stderr  # a secret is never echoed
    assert _start_up(DASHBOARD_AUTH="local").returncode == 0  # no agent sessions kept: no key
    key = Fernet.generate_key().decode()
    returncode, output = _deploy_check(
        DASHBOARD_AUTH="cic", CIC_SUPERVISOR_ROLES="Supervisor", ICWS_SESSION_KEY=key
    )
    assert returncode == 0, output
    assert "System check identified no issues" in output
