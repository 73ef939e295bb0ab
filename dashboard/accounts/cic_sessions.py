"""Agents' own ICWS sessions, kept server-side from sign-in to sign-out for ready-for-calls.

Only the tokens are kept (``AgentIcwsSession``), sealed under ``ICWS_SESSION_KEY``
(``session_seal``), never the password, and only for agents: every other CIC sign-in logs its
ICWS session out at once. A resumed client cannot reconnect, so when
CIC has ended the session the agent is told to sign in again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from dashboard.accounts import session_seal
from dashboard.accounts.models import AgentIcwsSession
from icws_client import IcwsClient
from icws_client.client import SessionTokens

log = logging.getLogger(__name__)


def _options() -> dict:
    return {
        "application_name": settings.ICWS_AGENT_APPLICATION_NAME,
        "language": settings.ICWS_LANGUAGE,
        "timeout": settings.ICWS_TIMEOUT,
        "allowed_alternate_hosts": settings.ICWS_ALTERNATE_HOSTS,
    }


def keep(user, client: IcwsClient) -> None:
    """Keep ``client``'s open session for ``user``, logging out the one kept before (and any
    kept longer than a dashboard session lasts: their owners never signed out)."""
    tokens = client.session_tokens()
    close(user)
    close_stale()
    AgentIcwsSession.objects.create(
        user=user,
        cic_user_id=tokens.user_id,
        host=tokens.host,
        sealed=session_seal.seal(
            session_id=tokens.session_id, csrf_token=tokens.csrf_token, cookie=tokens.cookie
        ),
    )


def agent_client(user) -> IcwsClient | None:
    """A client on the user's kept session, or None when there is none or no key at hand opens
    it (the agent is then asked to sign in again, which replaces the row)."""
    row = AgentIcwsSession.objects.filter(user=user).first()
    opened = session_seal.unseal(row.sealed) if row is not None else None
    if opened is None:
        return None
    tokens = SessionTokens(row.cic_user_id, row.host, **opened)
    return IcwsClient.resume(settings.ICWS_BASE_URL, tokens, **_options())


def close(user) -> None:
    """Log the user's kept session out of CIC (best effort) and forget it."""
    client = agent_client(user)
    AgentIcwsSession.objects.filter(user=user).delete()
    if client is not None:
        client.close()  # logs and swallows an ICWS error: the session expires on its own anyway


def close_stale() -> int:
    """Log out and forget sessions kept longer than ``SESSION_COOKIE_AGE``: the dashboard
    session they served has expired without a sign-out."""
    cutoff = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    stale = list(AgentIcwsSession.objects.filter(created_at__lt=cutoff).select_related("user"))
    for row in stale:
        close(row.user)
    return len(stale)
