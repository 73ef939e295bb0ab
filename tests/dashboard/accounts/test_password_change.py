"""A password change revokes the user's API tokens; wrong old passwords are throttled."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from dashboard.accounts.models import ApiToken

pytestmark = pytest.mark.django_db

OLD = "old-password-for-tests"
NEW = "a-brand-new-passphrase-42"


@pytest.fixture
def sup(django_user_model):
    user = django_user_model.objects.create_user("sup", password=OLD)
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    return user


def _token(user, key="k" * 40) -> str:
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key), prefix=key[:8])
    return key


def _change(client, old: str, new: str = NEW, **extra):
    return client.post(
        "/accounts/password_change/",
        {"old_password": old, "new_password1": new, "new_password2": new},
        **extra,
    )


def test_changing_the_password_on_the_page_revokes_the_api_tokens(client, sup):
    key = _token(sup)
    assert client.get("/api/agents", headers={"Authorization": f"Token {key}"}).status_code == 200
    client.force_login(sup)
    assert _change(client, OLD).status_code == 302
    client.logout()
    refused = client.get("/api/agents", headers={"Authorization": f"Token {key}"})
    assert refused.status_code == 401
    assert not ApiToken.objects.filter(user=sup).exists()


def test_every_way_of_setting_a_password_revokes_them(sup, django_user_model):
    other = django_user_model.objects.create_user("other", password=OLD)
    _token(sup, "a" * 40)
    _token(other, "b" * 40)
    sup.set_password(NEW)
    sup.save()
    assert not ApiToken.objects.filter(user=sup).exists()
    assert ApiToken.objects.filter(user=other).count() == 1  # nobody else's


def test_saves_that_leave_the_password_alone_keep_them(client, sup):
    _token(sup)
    sup.first_name = "Sue"
    sup.save()
    client.login(username="sup", password=OLD)  # updates last_login only
    assert ApiToken.objects.filter(user=sup).count() == 1


def test_a_token_printed_after_the_change_works(sup, capsys):
    sup.set_password(NEW)
    sup.save()
    call_command("api_token", "sup")
    assert ApiToken.objects.filter(user=sup).count() == 1


def test_wrong_old_passwords_are_throttled_like_sign_ins(client, sup, settings):
    client.force_login(sup)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _change(client, "wrong-guess").status_code == 200  # the form, with its error
    assert _change(client, "wrong-guess").status_code == 429  # the limit-th failure locks
    # Locked out: even the right old password is refused, and so is signing in from here.
    assert _change(client, OLD).status_code == 429
    sup.refresh_from_db()
    assert sup.check_password(OLD)
    client.logout()
    signed_in = client.post("/accounts/login/", {"username": "sup", "password": OLD})
    assert signed_in.status_code == 429


def test_a_right_old_password_still_changes_it(client, sup):
    client.force_login(sup)
    assert _change(client, "wrong-guess").status_code == 200
    assert _change(client, OLD).status_code == 302
    sup.refresh_from_db()
    assert sup.check_password(NEW)
