import ipaddress
import random
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


PROXY = "10.0.0.0/8"  # the networks of the proxies in front, in these tests


def _networks(*cidrs):
    return [ipaddress.ip_network(c) for c in cidrs]


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "expected"),
    [
        ((), "127.0.0.1", "1.1.1.1", "127.0.0.1"),  # no proxies configured: the peer
        ((PROXY,), "203.0.113.7", "1.1.1.1", "203.0.113.7"),  # the peer skipped the proxy
        ((PROXY,), "10.0.0.2", "6.6.6.6, 198.51.100.4", "198.51.100.4"),
        ((PROXY,), "10.0.0.2", "6.6.6.6, 198.51.100.4, 10.0.0.9", "198.51.100.4"),
        ((PROXY,), "10.0.0.2", "", "10.0.0.2"),
        ((PROXY,), "10.0.0.2", "10.0.0.5", "10.0.0.5"),  # only proxies: the furthest one
        ((PROXY,), "10.0.0.2", "6.6.6.6, not-an-ip", "10.0.0.2"),
        (("fd00::/8",), "fd00::2", "2001:db8::7", "2001:db8::7"),
    ],
)
def test_client_ip_believes_forwarded_for_only_from_trusted_proxy_networks(
    rf, settings, trusted, peer, forwarded, expected
):
    from dashboard.accounts.throttle import client_ip

    settings.TRUSTED_PROXIES = _networks(*trusted)
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=peer)
    assert client_ip(request) == expected


def _login(client, password, **extra):
    return client.post("/accounts/login/", {"username": "sup", "password": password}, **extra)


def _random_ip() -> str:
    return str(ipaddress.IPv4Address(random.getrandbits(32)))


def test_forty_wrong_passwords_with_random_forwarded_for_then_the_right_one_is_refused(
    client, settings, supervisor
):
    # A client that reaches gunicorn directly (not through the proxy) and invents its address.
    settings.TRUSTED_PROXIES = _networks(PROXY)
    settings.TRUSTED_PROXY_COUNT = 1  # the old .env.example value: it must not matter any more
    for _ in range(40):
        _login(client, "wrong", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=_random_ip())
    right = _login(client, PASSWORD, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=_random_ip())
    assert right.status_code == 429


def test_a_locked_out_user_adding_any_forwarded_for_is_still_locked_out(
    client, settings, supervisor
):
    settings.TRUSTED_PROXY_COUNT = 1  # the old .env.example value: it must not matter any more
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "wrong")
    for forwarded in ("1.2.3.4", "10.9.9.9, 1.2.3.4", _random_ip()):
        assert _login(client, PASSWORD, HTTP_X_FORWARDED_FOR=forwarded).status_code == 429


def test_through_a_trusted_proxy_the_client_address_counts(client, settings, supervisor):
    settings.TRUSTED_PROXIES = _networks(PROXY)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "wrong", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.4")
    locked = _login(client, PASSWORD, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert locked.status_code == 429
    # Another client behind the same proxy is not locked out with it.
    other = _login(client, PASSWORD, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.5")
    assert other.status_code == 302


def test_a_username_is_locked_out_on_every_address_after_the_username_limit(
    client, settings, supervisor
):
    settings.LOGIN_USERNAME_FAILURE_LIMIT = 12
    per_address = settings.AXES_FAILURE_LIMIT - 1  # never enough for the per-address lockout
    addresses = [f"192.0.2.{i}" for i in range(1, 20)]
    failures = 0
    for address in addresses:
        for _ in range(per_address):
            if failures < settings.LOGIN_USERNAME_FAILURE_LIMIT:
                assert _login(client, "wrong", REMOTE_ADDR=address).status_code == 200
            failures += 1
        if failures >= settings.LOGIN_USERNAME_FAILURE_LIMIT:
            break
    fresh = _login(client, PASSWORD, REMOTE_ADDR="198.51.100.200")
    assert fresh.status_code == 429
    # Shell and test logins (no request) are not HTTP sign-ins and stay unthrottled.
    assert client.login(username="sup", password=PASSWORD)


def test_the_username_limit_comes_from_the_environment_setting():
    assert settings.LOGIN_USERNAME_FAILURE_LIMIT == 20
    assert settings.TRUSTED_PROXIES == []


def test_the_schema_is_refused_without_credentials(client, supervisor):
    from dashboard.accounts.models import ApiToken

    assert client.get("/api/openapi.json").status_code == 401
    assert client.get("/api/docs").status_code == 404  # no docs page at all
    assert client.get("/api/openapi.json", headers={"Authorization": "Token no"}).status_code == 401
    key = "schema-reader-" + "k" * 30
    ApiToken.objects.create(user=supervisor, key_hash=ApiToken.hash(key), prefix=key[:8])
    with_token = client.get("/api/openapi.json", headers={"Authorization": f"Token {key}"})
    assert with_token.status_code == 200
    assert "/api/allocations" in with_token.json()["paths"]


@override_settings(DEBUG=True)
def test_debug_404s_are_the_product_page_not_a_list_of_url_patterns(client, supervisor):
    client.force_login(supervisor)
    for path in ("/no-such-page/", "/jobs/999999/", "/agents/nobody/"):
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 404, path
        assert "URLconf" not in html and "urlpatterns" not in html.lower(), path
        assert "<h1>Not found</h1>" in html, path
    api = client.get("/api/allocations/999999")
    assert api.status_code == 404 and api["Content-Type"].startswith("application/json")


@override_settings(DEBUG=True)
def test_debug_500s_are_the_product_page(rf, supervisor, caplog):
    from dashboard.ops.middleware import ProductErrorPagesMiddleware

    request = rf.get("/jobs/")
    request.user = supervisor
    middleware = ProductErrorPagesMiddleware(lambda r: None)
    response = middleware.process_exception(request, RuntimeError("secret internals"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert "secret internals" not in html and "Traceback" not in html
    assert "secret internals" in caplog.text  # the traceback goes to the log instead
