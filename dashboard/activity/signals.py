from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from dashboard.activity.visits import remember_away_since


@receiver(user_logged_in, dispatch_uid="activity-away-since")
def _remember_away_since(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        remember_away_since(request, user)
