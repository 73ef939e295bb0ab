import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dashboard.accounts.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive")
        key = secrets.token_urlsafe(32)
        ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key), prefix=key[:8])
        self.stdout.write(key)
