"""Sign-in with CIC against the strict simulator over real HTTP: roles by CIC role, refusals,
an outage, roles that change at the next sign-in, and local break-glass accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from dashboard.accounts import session_seal
from dashboard.accounts.cic_signin import BAD_CREDENTIALS, NO_ROLE, UNREACHABLE
from dashboard.accounts.models import AgentIcwsSession, CicIdentity, SupervisorScope
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Workgroup
from icws_client.simulator import Simulator, default_seed
from icws_client.simulator.seed import AGENT_PASSWORD
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_too]

Kind = AuditEvent.Kind
LOCAL_PASSWORD = "local-break-glass-pass-1"


@pytest.fixture
def cic(settings, sim):
    settings.ICWS_BASE_URL = sim.base_url
    settings.ICWS_TIMEOUT = 2.0
    settings.DASHBOARD_AUTH = "both"
    settings.CIC_SUPERVISOR_ROLES = ["Supervisor"]
    settings.CIC_AUDITOR_ROLES = ["quality auditor"]  # any case
    settings.CIC_ADMIN_ROLES = []
    return sim


def _agent_id(sim) -> str:
    return sim.state()["agents"][0]["id"]


def _sign_in(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def _disconnects(sim) -> int:
    calls = requests.get(f"{sim.base_url}/sim/calls", timeout=5).json()
    return sum(
        c["count"]
        for c in calls
        if c["method"] == "DELETE" and c["path"] == "/icws/{sessionId}/connection"
    )


def _groups(username) -> set[str]:
    return set(Group.objects.filter(user__username=username).values_list("name", flat=True))


def _errors(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def test_a_supervisor_signs_in_by_cic_role_and_the_icws_session_is_closed_at_once(client, cic):
    response = _sign_in(client, "sup.morgan", "supervisor-demo")
    assert response.status_code == 302 and response["Location"] == "/"
    assert _groups("sup.morgan") == {"supervisor"}
    identity = CicIdentity.objects.get(cic_user_id="sup.morgan")
    assert identity.user.first_name == "Dana Morgan"
    assert identity.cic_roles == ["Supervisor"] and identity.cic_workgroups == ["Supervisors"]
    assert not identity.user.has_usable_password()  # the password is never stored
    assert not AgentIcwsSession.objects.exists()
    assert _disconnects(cic) == 1
    row = AuditEvent.objects.get(kind=Kind.SIGN_IN)
    assert row.actor == identity.user and row.details["roles"] == ["supervisor"]
    assert client.get("/").status_code == 200  # the board


def test_an_auditor_signs_in_by_cic_role(client, cic):
    response = _sign_in(client, "qa.quinn", "auditor-demo")
    assert response.status_code == 302
    assert _groups("qa.quinn") == {"auditor"}
    assert client.get("/audit/").status_code == 200


def test_an_agent_signs_in_keeps_its_icws_session_until_sign_out(client, cic):
    agent_id = _agent_id(cic)
    response = _sign_in(client, agent_id, AGENT_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert _groups(agent_id) == {"agent"}
    kept = AgentIcwsSession.objects.get(user__username=agent_id)
    tokens = session_seal.unseal(kept.sealed)
    assert tokens["session_id"] and tokens["cookie"].startswith(f"icws_{tokens['session_id']}=")
    assert _disconnects(cic) == 0
    assert client.get("/").status_code == 403  # no dashboard role: only their own page
    client.post("/accounts/logout/")
    assert not AgentIcwsSession.objects.exists()
    assert _disconnects(cic) == 1


def test_a_wrong_password_is_refused_audited_and_counted_for_the_throttle(client, cic):
    response = _sign_in(client, "sup.morgan", "not-the-password")
    assert response.status_code == 200
    assert BAD_CREDENTIALS in _errors(response)
    refusal = AuditEvent.objects.get(kind=Kind.SIGN_IN_REFUSED)
    assert refusal.actor is None and refusal.actor_username == "sup.morgan"
    assert refusal.details["reason"] == "wrong user ID or password"
    assert AccessAttempt.objects.get(username="sup.morgan").failures_since_start == 1
    assert not CicIdentity.objects.exists()


def test_repeated_wrong_passwords_lock_the_cic_user_out(client, cic, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "sup.morgan", "nope")
    response = _sign_in(client, "sup.morgan", "supervisor-demo")
    assert response.status_code == 429
    assert not CicIdentity.objects.exists()


def test_icws_down_gives_a_clear_message_not_a_500_and_does_not_count(client, cic):
    cic.set_faults(down=True)
    response = _sign_in(client, "sup.morgan", "supervisor-demo")
    assert response.status_code == 200
    assert UNREACHABLE in _errors(response)
    assert not AccessAttempt.objects.filter(failures_since_start__gt=0).exists()
    refusal = AuditEvent.objects.get(kind=Kind.SIGN_IN_REFUSED)
    assert refusal.details["reason"] == "cic unreachable"
    cic.clear_faults()
    assert _sign_in(client, "sup.morgan", "supervisor-demo").status_code == 302


def test_a_cic_user_with_no_mapped_role_who_is_no_agent_is_refused(client, cic):
    response = _sign_in(client, SERVICE_USER, SERVICE_PASSWORD)  # CIC role Administrator
    assert NO_ROLE in _errors(response)
    assert AuditEvent.objects.get(kind=Kind.SIGN_IN_REFUSED).details["cic_roles"] == [
        "Administrator"
    ]
    assert _disconnects(cic) == 1


def test_roles_change_on_the_next_sign_in_and_the_change_is_audited(client, settings, cic):
    assert _sign_in(client, "sup.morgan", "supervisor-demo").status_code == 302
    client.post("/accounts/logout/")
    seed = default_seed()
    morgan = next(u for u in seed["users"] if u["id"] == "sup.morgan")
    morgan["roles"] = ["Quality Auditor"]  # demoted on CIC
    with Simulator(port=0, seed=seed, service_user=SERVICE_USER) as other:
        settings.ICWS_BASE_URL = other.base_url
        assert _sign_in(client, "sup.morgan", "supervisor-demo").status_code == 302
    assert _groups("sup.morgan") == {"auditor"}
    change = AuditEvent.objects.get(kind=Kind.ROLE_CHANGED)
    assert change.details["roles_before"] == ["supervisor"]
    assert change.details["roles"] == ["auditor"]
    assert AuditEvent.objects.filter(kind=Kind.SIGN_IN).count() == 2


def test_a_supervisors_scope_comes_from_cic_workgroups_unless_an_admin_set_it(client, cic):
    Workgroup.objects.create(id="Supervisors", name="Supervisors")
    Workgroup.objects.create(id="Renewals", name="Renewals")
    _sign_in(client, "sup.morgan", "supervisor-demo")
    scope = SupervisorScope.objects.get(user__username="sup.morgan")
    assert scope.source == "cic"
    assert set(scope.workgroups.values_list("id", flat=True)) == {"Supervisors"}
    # An admin's scope wins over CIC's at the next sign-in.
    scope.source = "admin"
    scope.save()
    scope.workgroups.set(["Renewals"])
    client.post("/accounts/logout/")
    _sign_in(client, "sup.morgan", "supervisor-demo")
    scope.refresh_from_db()
    assert set(scope.workgroups.values_list("id", flat=True)) == {"Renewals"}


def test_cic_does_not_take_over_a_local_account_of_the_same_name(client, cic, django_user_model):
    django_user_model.objects.create_user("sup.morgan", password=LOCAL_PASSWORD)
    response = _sign_in(client, "sup.morgan", "supervisor-demo")
    assert "local dashboard account" in _errors(response)
    assert not CicIdentity.objects.exists()


@pytest.fixture
def local_admin(django_user_model):
    user = django_user_model.objects.create_user("root", password=LOCAL_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="admin")[0])
    return user


def test_in_both_a_local_admin_signs_in_with_its_password(client, cic, local_admin):
    assert _sign_in(client, "root", LOCAL_PASSWORD).status_code == 302
    row = AuditEvent.objects.get(kind=Kind.SIGN_IN)
    assert row.details == {"auth": "local", "break_glass": False}


def test_in_cic_only_break_glass_local_accounts_sign_in_locally(client, cic, local_admin, settings):
    settings.DASHBOARD_AUTH = "cic"
    response = _sign_in(client, "root", LOCAL_PASSWORD)
    assert response.status_code == 200
    assert "break-glass" in _errors(response)
    call_command("break_glass", "root", "--note", "CIC outage access")
    assert _sign_in(client, "root", LOCAL_PASSWORD).status_code == 302
    assert AuditEvent.objects.filter(kind=Kind.SIGN_IN).get().details["break_glass"] is True
    # ... and CIC users still sign in with CIC.
    client.post("/accounts/logout/")
    assert _sign_in(client, "sup.morgan", "supervisor-demo").status_code == 302


def test_in_local_mode_a_sign_in_is_audited_too(client, local_admin, settings):
    """local is the default mode: an auditor sees who signed in there as in the others."""
    settings.DASHBOARD_AUTH = "local"
    assert _sign_in(client, "root", LOCAL_PASSWORD).status_code == 302
    row = AuditEvent.objects.get(kind=Kind.SIGN_IN)
    assert row.actor_username == "root"
    assert row.message == "Signed in with a local password"
    assert row.details == {"auth": "local", "break_glass": False}
    # A wrong password signs nobody in and writes no sign-in (the throttle counts it).
    client.post("/accounts/logout/")
    assert _sign_in(client, "root", "wrong").status_code == 200
    assert AuditEvent.objects.filter(kind=Kind.SIGN_IN).count() == 1


def test_in_local_mode_cic_is_never_asked(client, cic, settings):
    settings.DASHBOARD_AUTH = "local"
    response = _sign_in(client, "sup.morgan", "supervisor-demo")
    assert response.status_code == 200
    assert requests.get(f"{cic.base_url}/sim/calls", timeout=5).json() == []


def test_the_sign_in_form_names_the_cic_credentials_in_cic_mode(client, settings):
    settings.DASHBOARD_AUTH = "cic"
    page = client.get("/accounts/login/").content.decode()
    assert "CIC user ID" in page and "CIC password" in page


def test_a_kept_session_older_than_a_dashboard_session_is_closed_at_the_next_sign_in(
    client, cic, settings
):
    first, second = (a["id"] for a in cic.state()["agents"][:2])
    assert _sign_in(client, first, AGENT_PASSWORD).status_code == 302
    AgentIcwsSession.objects.update(
        created_at=timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)
    )
    other = Client()
    assert _sign_in(other, second, AGENT_PASSWORD).status_code == 302
    assert list(AgentIcwsSession.objects.values_list("user__username", flat=True)) == [second]
    assert _disconnects(cic) == 1  # the stale one was logged out of CIC


def test_icws_down_on_the_admin_sign_in_page_is_a_refusal_not_a_500(client, cic):
    cic.set_faults(down=True)
    response = client.post(
        "/admin/login/", {"username": "sup.morgan", "password": "supervisor-demo"}
    )
    assert response.status_code == 200
    assert AuditEvent.objects.get(kind=Kind.SIGN_IN_REFUSED).details["reason"] == (
        "cic unreachable"
    )
