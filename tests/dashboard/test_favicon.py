"""The site's icon: linked from every page and answered at /favicon.ico, signed in or not."""

from __future__ import annotations

import struct

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_public_and_an_icon(client):
    response = client.get("/favicon.ico")  # no session: browsers ask before any sign-in
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert "public" in response["Cache-Control"] and "max-age=86400" in response["Cache-Control"]
    reserved, kind, count = struct.unpack("<HHH", response.content[:6])
    assert (reserved, kind, count) == (0, 1, 1)  # an ICO directory with one image
    assert response.content[22:30] == b"\x89PNG\r\n\x1a\n"  # whose image is a PNG
    assert client.head("/favicon.ico").status_code == 200
    assert client.post("/favicon.ico").status_code == 405


def test_pages_link_the_vendored_icons(client, mover):
    for page in ("/accounts/login/", "/"):
        if page == "/":
            client.force_login(mover)
        html = client.get(page).text
        assert 'rel="icon" href="/static/favicon.ico"' in html, page
        assert 'rel="icon" href="/static/favicon.svg" type="image/svg+xml"' in html, page
    assert finders.find("favicon.ico") and finders.find("favicon.svg")
