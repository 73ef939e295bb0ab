"""``manage.py break_glass USERNAME``: let a local account sign in with its Django password while
``DASHBOARD_AUTH=cic`` (the way in when CIC is down). ``--remove`` takes it back; ``--list``."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dashboard.accounts.models import BreakGlassAccount


class Command(BaseCommand):
    help = "Flag a local account as break-glass (local password accepted with DASHBOARD_AUTH=cic)."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?")
        parser.add_argument("--note", default="", help="why (shown in the admin)")
        parser.add_argument("--remove", action="store_true", help="take the flag away")
        parser.add_argument("--list", dest="list_all", action="store_true", help="list them")

    def handle(self, *args, username=None, note="", remove=False, list_all=False, **options):
        if list_all:
            for row in BreakGlassAccount.objects.select_related("user").order_by("user__username"):
                self.stdout.write(f"{row.user.username}\t{row.created_at:%Y-%m-%d}\t{row.note}")
            return
        if not username:
            raise CommandError("give a USERNAME (or --list)")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}; create it first (createsuperuser)")
        if hasattr(user, "cic_identity"):
            raise CommandError(f"{username!r} was made by CIC sign-in and has no local password")
        if remove:
            deleted, _ = BreakGlassAccount.objects.filter(user=user).delete()
            self.stdout.write(f"{username}: break-glass {'removed' if deleted else 'was not set'}")
            return
        if not user.has_usable_password():
            raise CommandError(f"{username!r} has no usable password; set one (changepassword)")
        BreakGlassAccount.objects.update_or_create(user=user, defaults={"note": note[:200]})
        self.stdout.write(f"{username}: may sign in with a local password when DASHBOARD_AUTH=cic")
