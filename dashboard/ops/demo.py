"""Demo mode only (DASHBOARD_DEMO=1): the demo accounts, and a roster copied from the simulator."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from dashboard.directory.models import Agent, Campaign, RosterEntry
from dashboard.directory.services import roster_import

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


def roster_seed_from_simulator(base_url: str) -> int:
    """Demo mode: copy the simulator's membership (``GET /sim/state``) when our roster is empty.

    Real ICWS has no such endpoint (``/sim/`` is the simulator's own); callers check DEMO_MODE.
    Returns the number of agents seeded (0 when a roster already exists).
    """
    import requests  # the dashboard otherwise reaches ICWS only through icws_client

    if RosterEntry.objects.exists():
        return 0
    state = requests.get(f"{base_url}/sim/state", timeout=10).json()
    known = set(Agent.objects.values_list("id", flat=True))
    campaigns = set(Campaign.objects.values_list("id", flat=True))
    lines = [
        f"{agent},{campaign}"
        for agent, ids in state.get("membership", {}).items()
        if agent in known
        for campaign in ids
        if campaign in campaigns
    ]
    result = roster_import(text="\n".join(lines), source="demo")
    return result.agents
