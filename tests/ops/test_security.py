import re

import pytest
from django.conf import settings
from django.test import override_settings

from tests.ops.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_pages_carry_the_content_security_policy(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert policy == settings.CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def _assert_no_inline_script_or_style(html: str) -> None:
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert scripts, "the page loads its scripts from files"
    assert all(body.strip() == "" for body in scripts), "inline script"
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    assert "<style" not in html and "style=" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert "hx-on" not in html


def test_the_login_page_has_no_inline_script_or_style(client):
    _assert_no_inline_script_or_style(client.get("/accounts/login/").content.decode())


def test_the_board_has_no_inline_script_or_style(client, supervisor):
    client.force_login(supervisor)
    _assert_no_inline_script_or_style(client.get("/").content.decode())


def test_admin_is_refused_to_a_supervisor(client, supervisor):
    client.force_login(supervisor)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_is_open_to_the_admin_role(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200


def test_admin_still_needs_staff_status(client, admin_user):
    admin_user.is_staff = False
    admin_user.save()
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 302


def test_login_works(client, supervisor):
    response = client.post("/accounts/login/", {"username": "sup", "password": PASSWORD})
    assert response.status_code == 302


def test_a_failed_sign_in_says_so_once_and_keeps_where_it_was_going(client, supervisor):
    response = client.post(
        "/accounts/login/?next=/jobs/", {"username": "sup", "password": "wrong", "next": "/jobs/"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("Please enter a correct username and password") == 1
    assert 'role="alert"' in html
    assert 'action="/accounts/login/?next=/jobs/"' in html
    right = client.post(
        "/accounts/login/?next=/jobs/", {"username": "sup", "password": PASSWORD, "next": "/jobs/"}
    )
    assert right["Location"] == "/jobs/"


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_login_out(client, supervisor):
    for _ in range(2):
        response = client.post("/accounts/login/", {"username": "sup", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    locked = client.post("/accounts/login/", {"username": "sup", "password": "wrong"})
    assert locked.status_code == 429
    right = client.post("/accounts/login/", {"username": "sup", "password": PASSWORD})
    assert right.status_code == 429
    # Per user and address: the same user from elsewhere may still sign in.
    elsewhere = client.post(
        "/accounts/login/", {"username": "sup", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9"
    )
    assert elsewhere.status_code == 302


def test_the_default_limit_comes_from_the_environment_setting():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_the_test_client_can_still_log_in(client, supervisor):
    assert client.login(username="sup", password=PASSWORD)
    assert not client.login(username="sup", password="wrong")


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "127.0.0.1"),
        (1, "6.6.6.6, 2.2.2.2", "2.2.2.2"),
        (2, "6.6.6.6, 2.2.2.2, 3.3.3.3", "2.2.2.2"),
        (2, "3.3.3.3", "127.0.0.1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(rf, settings, proxies, forwarded, expected):
    from dashboard.ops.auth import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="127.0.0.1")
    assert client_ip(request) == expected
