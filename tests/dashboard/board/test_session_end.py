"""Session end: an htmx request gets the whole-page sign-in; a signed-in user skips the form."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.urls import reverse


def test_an_htmx_poll_after_sign_out_gets_a_whole_page_redirect_to_sign_in(client, dir_small):
    response = client.get(
        "/",
        {"rev": "x"},
        headers={
            "HX-Request": "true",
            "HX-Target": "board-columns",
            "HX-Current-URL": "http://testserver/?q=ana",
        },
    )
    assert response.status_code == 204  # nothing swapped into the columns
    target = urlsplit(response["HX-Redirect"])
    assert target.path == reverse("login")
    assert parse_qs(target.query)["next"] == ["/?q=ana"]
    assert parse_qs(target.query)["ended"] == ["1"]


def test_an_htmx_post_after_sign_out_is_redirected_to_the_board(client, dir_small):
    response = client.post("/moves/preview", {"picks": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    query = parse_qs(urlsplit(response["HX-Redirect"]).query)
    assert query["next"] == ["/"] and query["ended"] == ["sent"]


def test_the_open_confirmations_own_check_is_no_post_of_hers(client, dir_small):
    """The dialog's once-a-second check of what changed is a POST she did not make: the sign-in
    page must not tell her that something she sent was dropped."""
    response = client.post(reverse("move-check"), {"picks": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert parse_qs(urlsplit(response["HX-Redirect"]).query)["ended"] == ["1"]


def test_the_sign_in_page_says_the_session_ended_and_that_a_post_did_nothing(client):
    page = client.get(reverse("login"), {"next": "/", "ended": "sent"}).content.decode()
    assert "Your session ended" in page and "no agent was moved" in page
    page = client.get(reverse("login"), {"next": "/", "ended": "1"}).content.decode()
    assert "Your session ended" in page and "no agent was moved" not in page
    page = client.get(reverse("login"), {"ended": "<script>"}).content.decode()
    assert "Your session ended" not in page and "<script>" not in page


def test_a_foreign_current_url_is_not_used_as_next(client, dir_small):
    response = client.get(
        "/jobs/", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    )
    assert parse_qs(urlsplit(response["HX-Redirect"]).query)["next"] == ["/"]


def test_a_plain_request_still_gets_the_ordinary_redirect(client, dir_small):
    response = client.get("/")
    assert response.status_code == 302 and "HX-Redirect" not in response


def test_the_sign_in_page_sends_a_signed_in_user_on(client, mover):
    client.force_login(mover)
    response = client.get(reverse("login") + "?next=/jobs/")
    assert response.status_code == 302 and response["Location"] == "/jobs/"
