import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dashboard.accounts.models import ApiToken


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME and print it (shown once; only its hash is stored). "
        "--list shows the user's tokens by prefix; --revoke PREFIX (or --revoke all) deletes them."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--list", dest="list_tokens", action="store_true", help="list the user's tokens"
        )
        action.add_argument("--revoke", metavar="PREFIX", help="revoke a token by prefix, or all")

    def handle(
        self, *args, username: str, list_tokens: bool = False, revoke: str | None = None, **options
    ):
        if list_tokens or revoke is not None:
            return self._manage(username, revoke)
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive")
        key = secrets.token_urlsafe(32)
        while key.startswith("-"):  # its prefix would read as an option: --revoke -Ab3… fails
            key = secrets.token_urlsafe(32)
        ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key), prefix=key[:8])
        self.stdout.write(key)

    def _manage(self, username: str, revoke: str | None) -> None:
        tokens = ApiToken.objects.filter(user__username=username).order_by("created_at")
        if revoke is None:
            for token in tokens:
                used = token.last_used_at.isoformat() if token.last_used_at else "never"
                self.stdout.write(
                    f"{token.prefix}  created {token.created_at.isoformat()}  last used {used}"
                )
            return
        if not revoke:
            raise CommandError("--revoke needs a token prefix (see --list) or all")
        chosen = tokens if revoke == "all" else tokens.filter(prefix=revoke)
        count = chosen.count()
        if count == 0:
            raise CommandError(f"{username!r} has no token starting {revoke!r}")
        chosen.delete()
        self.stdout.write(f"Revoked {count} token{'s' if count != 1 else ''} of {username}")
