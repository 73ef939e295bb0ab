"""An agent's kept ICWS session tokens, sealed at rest with ``ICWS_SESSION_KEY`` (Fernet).

The session id, CSRF token and cookie let whoever holds them act as the agent on CIC, so the
database holds them only as one Fernet token (AES-128-CBC with an HMAC-SHA256, from the
``cryptography`` package: no crypto of our own). A reader of the database or of a backup without
the key learns who has a kept session and on which host, nothing that opens it.

``ICWS_SESSION_KEY`` is a comma list of Fernet keys, newest first: the first seals, any opens,
so a key is rotated by putting the new one in front and dropping the old one after a dashboard
session's lifetime (``SESSION_COOKIE_AGE``; rows never outlive it). Debug and demo without one
use a key generated once under ``DASHBOARD_VAR_DIR``; production with CIC sign-in refuses to
start without one (``settings.py``).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENERATED_KEY_FILE = "icws-session.key"
_FIELDS = ("session_id", "csrf_token", "cookie")


def _generated_key() -> bytes:
    path = Path(settings.VAR_DIR) / GENERATED_KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


@cache
def _fernet(keys: tuple[str, ...], generated_ok: bool, var_dir: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    if not generated_ok:
        raise ImproperlyConfigured(
            "ICWS_SESSION_KEY must be set when DJANGO_DEBUG is off: it seals agents' kept ICWS "
            "sessions (docs/OPERATIONS.md, 'ICWS session key')"
        )
    return MultiFernet([Fernet(_generated_key())])


def _current() -> MultiFernet:
    # Keyed by the settings it reads, so a test's override (or a changed VAR_DIR) is honoured.
    return _fernet(
        tuple(settings.ICWS_SESSION_KEYS),
        bool(settings.DEBUG or settings.DEMO_MODE),
        str(settings.VAR_DIR),
    )


def can_seal() -> bool:
    """Whether a key is at hand (given, or generated in debug/demo)."""
    return bool(settings.ICWS_SESSION_KEYS or settings.DEBUG or settings.DEMO_MODE)


def seal(*, session_id: str, csrf_token: str, cookie: str) -> str:
    plain = json.dumps({"session_id": session_id, "csrf_token": csrf_token, "cookie": cookie})
    return _current().encrypt(plain.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> dict[str, str] | None:
    """The three tokens, or None when no key at hand opens ``sealed`` (the key was changed
    without keeping the old one, or the row was edited): the agent signs in again."""
    try:
        plain = _current().decrypt(sealed.encode("ascii"))
        values = json.loads(plain)
    except (InvalidToken, UnicodeError, ValueError):
        return None
    if not isinstance(values, dict) or not all(isinstance(values.get(f), str) for f in _FIELDS):
        return None
    return {field: values[field] for field in _FIELDS}
