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
