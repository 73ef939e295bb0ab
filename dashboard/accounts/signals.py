"""Sign-out closes an agent's kept ICWS session. A password change revokes the user's API
tokens, as it ends the user's other sessions.

Whoever knew the old password could have printed a token with it; a token that outlived the
change would keep their access. Caught on save, so every path counts: the password change page,
the admin, ``manage.py changepassword``, ``set_password()`` in a shell.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from dashboard.accounts import cic_sessions
from dashboard.accounts.models import ApiToken


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts-password-seen")
def _note_password_change(sender, instance, update_fields=None, **kwargs) -> None:
    instance._password_changed = False
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    old = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_changed = old is not None and old != instance.password


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts-revoke-tokens")
def _revoke_tokens_on_password_change(sender, instance, **kwargs) -> None:
    if getattr(instance, "_password_changed", False):
        ApiToken.objects.filter(user=instance).delete()
        instance._password_changed = False


@receiver(user_logged_out, dispatch_uid="accounts-close-agent-icws-session")
def _close_agent_session(sender, request, user, **kwargs) -> None:
    """Sign-out ends the agent's ICWS session kept for ready-for-calls (``cic_sessions``)."""
    if user is not None:
        cic_sessions.close(user)
