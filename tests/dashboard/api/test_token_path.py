"""A cookieless token request to the API skips the browser's middleware (``api.middleware``);
anything with a cookie, and any other path, goes through all of it. Same answers, same
headers, and the session path is still CSRF-checked."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from dashboard.allocations.models import AllocationJob
from dashboard.api import middleware
from tests.dashboard.api.conftest import token_for

pytestmark = pytest.mark.postgres_too
URL = "/api/allocations"
MOVE = {"agent_ids": ["a1"], "campaign_ids_in": ["{C2}"], "campaign_ids_out": ["{C1}"]}


def _post(client, body=MOVE, **headers):
    return client.post(URL, json.dumps(body), content_type="application/json", headers=headers)


def test_a_cookieless_token_post_takes_the_short_path_with_the_same_headers(mover, dir_small):
    response = _post(Client(), Authorization=f"Token {token_for(mover)}")
    assert response.status_code == 202, response.content
    request = response.wsgi_request
    assert not hasattr(request, "session"), "sessions middleware skipped"
    assert not hasattr(request, "htmx") and not hasattr(request, "_messages")
    assert request.user == mover
    assert AllocationJob.objects.get().requested_by == mover
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Request-ID"]
    assert "Set-Cookie" not in response and not response.cookies


def test_with_a_cookie_the_token_request_goes_the_whole_way(mover, auditor, dir_small):
    browser = Client()
    browser.force_login(auditor)  # a session cookie of someone else
    response = _post(browser, Authorization=f"Token {token_for(mover)}")
    assert response.status_code == 202, response.content
    assert hasattr(response.wsgi_request, "session")
    assert AllocationJob.objects.get().requested_by == mover  # the token decides, as before


def test_a_session_post_to_the_api_is_still_csrf_checked(mover, dir_small):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(mover)
    refused = _post(strict)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    # A wrong token does not open the session path without the CSRF token either.
    refused = _post(strict, Authorization="Token wrong")
    assert refused.status_code == 403
    assert not AllocationJob.objects.exists()


def test_a_wrong_token_on_the_short_path_is_refused(mover, dir_small):
    strict = Client(enforce_csrf_checks=True)
    assert _post(strict, Authorization="Token wrong").status_code in (401, 403)
    answer = strict.get(URL, headers={"Authorization": "Token wrong"})
    assert answer.status_code == 401 and answer["WWW-Authenticate"] == "Token"
    assert not AllocationJob.objects.exists()


def test_a_token_on_a_page_that_is_not_the_api_changes_nothing(client, mover):
    response = client.get("/", headers={"Authorization": f"Token {token_for(mover)}"})
    assert response.status_code == 302 and "/login" in response["Location"]
    assert hasattr(response.wsgi_request, "session")


@pytest.mark.parametrize(
    ("meta", "short"),
    [
        ({"HTTP_AUTHORIZATION": "Token abc"}, True),
        ({"HTTP_AUTHORIZATION": "token abc", "HTTP_COOKIE": ""}, True),
        ({"HTTP_AUTHORIZATION": "Token abc", "HTTP_COOKIE": "sessionid=x"}, False),
        ({"HTTP_AUTHORIZATION": "Token abc", "HTTP_COOKIE": "tz=Europe/Paris"}, False),
        ({"HTTP_AUTHORIZATION": "Bearer abc"}, False),
        ({"HTTP_AUTHORIZATION": "Tokenabc"}, False),
        ({}, False),
    ],
)
def test_which_requests_take_the_short_path(rf, meta, short):
    assert middleware.is_token_request(rf.get("/api/allocations", **meta)) is short
    assert middleware.is_token_request(rf.get("/board", **meta)) is False


def test_the_short_path_may_only_leave_layers_out():
    names = ["a", middleware.NAME, "b", "c"]
    assert middleware._checked(names, ["c"]) == ["c"]
    for wrong in (["c", "b"], ["x"], ["a"]):
        with pytest.raises(ImproperlyConfigured):
            middleware._checked(names, wrong)
    with pytest.raises(ImproperlyConfigured):
        middleware._checked(["b"], ["b"])


def test_the_api_is_tried_first_and_no_other_url_starts_with_api():
    """dashboard/urls.py tries the API first; that resolves every path as before only while no
    other pattern could match a path under /api/."""
    from django.urls import URLResolver, get_resolver, resolve

    def routes(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from routes(p.url_patterns, route)
            else:
                yield route

    first, *others = get_resolver().url_patterns
    assert str(first.pattern) == "api/" and first.namespace == "api"
    assert [r for r in routes(others) if r.startswith("api") or r.startswith("<")] == []
    assert resolve("/api/allocations").namespace == "api"
    assert resolve("/healthz").url_name == "healthz"


def test_the_error_pages_tell_the_api_by_path_info_as_the_short_path_does(rf):
    """Under a script prefix both tests see "/api/..." (request.path would be "/dash/api/..."),
    so a token request and a browser's request to the same API URL get the same error shape."""
    from dashboard.ops.middleware import _is_api

    request = rf.get("/api/nowhere", SCRIPT_NAME="/dash", HTTP_AUTHORIZATION="Token x")
    assert request.path == "/dash/api/nowhere"
    assert _is_api(request) and middleware.is_token_request(request)
    assert not _is_api(rf.get("/audit/", SCRIPT_NAME="/dash"))
