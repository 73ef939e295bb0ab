"""Demo accounts, created only in demo mode (DASHBOARD_DEMO=1)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

DEMO_ACCOUNTS = {
    # username: (password, role group)
    "supervisor": ("supervisor-demo", "supervisor"),
    "auditor": ("auditor-demo", "auditor"),
}


def ensure_demo_accounts() -> list[str]:
    """Create missing demo accounts; returns the usernames created. Existing ones are left alone."""
    User = get_user_model()
    created = []
    for username, (password, role) in DEMO_ACCOUNTS.items():
        user, was_created = User.objects.get_or_create(username=username)
        if was_created:
            user.set_password(password)
            user.save()
            created.append(username)
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    return created
