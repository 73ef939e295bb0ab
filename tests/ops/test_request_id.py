import re

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from dashboard.core.logcontext import request_id_var
from dashboard.ops.middleware import RequestIdMiddleware


def test_it_echoes_a_valid_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123_DEF.4"})
    assert response["X-Request-ID"] == "abc-123_DEF.4"


def test_it_generates_one_when_missing(client):
    response = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.parametrize(
    "bad",
    ["x" * 65, "has space", "semi;colon", "new\nline", 'quote"', "ünicode", ""],
)
def test_it_replaces_an_invalid_request_id(client, bad):
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    assert response["X-Request-ID"] != bad
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_it_accepts_64_characters(client):
    rid = "a" * 64
    assert client.get("/healthz", headers={"X-Request-ID": rid})["X-Request-ID"] == rid


def test_the_view_and_log_context_see_the_id():
    seen = {}

    def view(request):
        seen["attr"] = request.request_id
        seen["context"] = request_id_var.get()
        return HttpResponse("ok")

    request = RequestFactory().get("/", headers={"X-Request-ID": "req-42"})
    response = RequestIdMiddleware(view)(request)
    assert seen == {"attr": "req-42", "context": "req-42"}
    assert response["X-Request-ID"] == "req-42"
    assert request_id_var.get() is None  # reset after the response
