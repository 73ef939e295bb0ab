"""Read settings from the environment, failing loudly on malformed values.

Each helper raises ``ImproperlyConfigured`` naming the variable and what was wrong with it, so a
typo in a deployment stops the process at start-up instead of surfacing as odd behaviour later.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if not value > minimum:
        raise ImproperlyConfigured(f"{name} must be greater than {minimum:g}, got {raw!r}")
    return value


def env_int(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """A secret from ``NAME``, or from the file named by ``NAME_FILE`` (Docker secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from None
    return os.environ.get(name, default)


def env_http_url(name: str, default: str) -> str:
    """An http(s) base URL without a path, e.g. ``http://cic1.example.com:8018``."""
    raw = env_str(name, default)
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https"):
        raise ImproperlyConfigured(
            f"{name} must start with http:// or https:// (e.g. http://cic1:8018), got {raw!r}"
        )
    if not parts.hostname:
        raise ImproperlyConfigured(f"{name} has no host name: {raw!r}")
    try:
        parts.port  # noqa: B018 - raises on a non-numeric port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port: {raw!r}") from None
    if parts.path not in ("", "/") or parts.query:
        raise ImproperlyConfigured(f"{name} must not have a path or query: {raw!r}")
    return raw.rstrip("/")


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def env_networks(name: str, default: str = "") -> list[IpNetwork]:
    """A comma list of networks in CIDR form (``10.0.0.0/8,fd00::/8``; a bare address is /32 or
    /128). Host bits set (``10.0.0.1/8``) are refused as a likely typo."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name} must be a comma list of networks such as 172.30.80.0/24 or 10.0.0.5; "
                f"{item!r} is not one ({exc})"
            ) from None
    return networks


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.1``, ``::1``, ``[::1]``) exactly.

    Compared whole, never by prefix: ``localhost.evil.example`` and ``127.example.com`` are
    public names.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def load_env_file(path, names: frozenset[str]) -> None:
    """Defaults from a ``NAME=value`` file (``#`` comments, blank lines) for the variables in
    ``names``; the environment wins over the file. A missing file is no error; a malformed line
    or an unexpected name stops start-up naming the file and the line."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ImproperlyConfigured(f"{path} cannot be read: {exc}") from None
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or name not in names:
            raise ImproperlyConfigured(
                f"{path} line {number}: expected NAME=value with NAME one of "
                f"{', '.join(sorted(names))}; got {line!r}"
            )
        os.environ.setdefault(name, value.strip())


def generated_secret(path) -> str:
    """The secret in ``path``, created (50 random bytes, mode 0600) on first use."""
    try:
        with open(path, encoding="utf-8") as handle:
            secret = handle.read().strip()
        if secret:
            return secret
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ImproperlyConfigured(f"{path} cannot be read: {exc}") from None
    secret = secrets.token_urlsafe(50)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return generated_secret(path)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"{path} cannot be created for the generated DJANGO_SECRET_KEY: {exc}; set "
            "DJANGO_SECRET_KEY or make DASHBOARD_VAR_DIR writable"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret
