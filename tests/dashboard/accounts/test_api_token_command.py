import pytest
from django.core.management import CommandError, call_command

from dashboard.accounts.models import ApiToken


def test_it_prints_a_token_and_stores_only_its_hash(django_user_model, capsys):
    user = django_user_model.objects.create_user("sup")
    call_command("api_token", "sup")
    key = capsys.readouterr().out.strip()
    assert len(key) >= 40
    token = ApiToken.objects.get(user=user)
    assert token.key_hash == ApiToken.hash(key)
    assert key not in token.key_hash


def test_unknown_or_inactive_users_are_refused(django_user_model):
    with pytest.raises(CommandError, match="No user"):
        call_command("api_token", "ghost")
    django_user_model.objects.create_user("gone", is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        call_command("api_token", "gone")


def test_tokens_are_listed_by_prefix_and_revoked(django_user_model, capsys, client):
    django_user_model.objects.create_user("sup")
    call_command("api_token", "sup")
    first = capsys.readouterr().out.strip()
    call_command("api_token", "sup")
    second = capsys.readouterr().out.strip()
    call_command("api_token", "sup", "--list")
    listed = capsys.readouterr().out
    assert first[:8] in listed and second[:8] in listed
    assert first not in listed  # never the key itself

    call_command("api_token", "sup", "--revoke", first[:8])
    assert "Revoked 1 token of sup" in capsys.readouterr().out
    assert client.get("/api/agents", headers={"Authorization": f"Token {first}"}).status_code == 401
    with pytest.raises(CommandError, match="no token starting"):
        call_command("api_token", "sup", "--revoke", first[:8])
    with pytest.raises(CommandError, match="needs a token prefix"):
        call_command("api_token", "sup", "--revoke", "")
    call_command("api_token", "sup", "--revoke", "all")
    assert not ApiToken.objects.exists()


def test_no_token_starts_with_a_dash_so_its_prefix_can_be_revoked(django_user_model, monkeypatch):
    """One urlsafe token in 64 starts with "-": ``--revoke -Ab3…`` then read as an option."""
    from dashboard.accounts.management.commands import api_token

    keys = iter(["-Ab3dash-first", "Zz9plain-second"])
    monkeypatch.setattr(api_token.secrets, "token_urlsafe", lambda n: next(keys))
    django_user_model.objects.create_user("sup")
    call_command("api_token", "sup")
    assert list(ApiToken.objects.values_list("prefix", flat=True)) == ["Zz9plain"]
