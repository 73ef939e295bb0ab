"""The only module that talks to ``requests``.

It sends one request with an explicit timeout and turns what comes back into a ``Reply`` or a typed
transport error. It never retries and never follows redirects: those are policy, and policy lives
in ``client.py``.
"""

from __future__ import annotations

import http.cookiejar
import json
from dataclasses import dataclass, field
from typing import Any

import requests

from .exceptions import IcwsConnectionError, IcwsProtocolError, IcwsTimeout

ICWS_MEDIA_TYPE = "application/vnd.inin.icws+JSON"
JSON_CONTENT_TYPE = f"{ICWS_MEDIA_TYPE};charset=utf-8"
# Largest response body we are willing to decode; a 5,000-user list with workgroups is ~2 MB.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """The ICWS session cookie is sent explicitly per session; the jar must never add another."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


@dataclass(slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: Any  # decoded JSON, or None for an empty body
    cookies: dict[str, str] = field(default_factory=dict)


def new_session() -> requests.Session:
    session = requests.Session()
    session.cookies.set_policy(_NoCookies())
    session.trust_env = False  # no proxies or netrc credentials picked up from the environment
    return session


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float,
    what: str,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    body: Any = None,
) -> Reply:
    """Send one request; ``what`` names the call in errors (never a session id or password)."""
    data = None
    all_headers = {"Accept": f"{ICWS_MEDIA_TYPE}, application/json"}
    if body is not None:
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        all_headers["Content-Type"] = JSON_CONTENT_TYPE
    all_headers.update(headers or {})
    try:
        response = session.request(
            method,
            url,
            headers=all_headers,
            params=params,
            data=data,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
    except requests.ConnectTimeout as exc:
        # Nothing was sent: a connection failure, not a request whose outcome is unknown.
        raise IcwsConnectionError(
            f"Could not connect to the ICWS server within {timeout:g} s", request=what
        ) from exc
    except requests.Timeout as exc:
        raise IcwsTimeout(f"No answer within {timeout:g} s", request=what) from exc
    except requests.RequestException as exc:
        raise IcwsConnectionError(
            f"Could not reach the ICWS server: {type(exc).__name__}", request=what
        ) from exc
    try:
        raw = _read_capped(response, timeout=timeout, what=what)
    finally:
        response.close()
    cookies = {name: value for name, value in response.cookies.items()}
    return Reply(
        status=response.status_code,
        headers=dict(response.headers),
        body=_decode(raw, response.status_code, what),
        cookies=cookies,
    )


def _read_capped(response: requests.Response, *, timeout: float, what: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise IcwsProtocolError(
                    f"Response larger than {MAX_RESPONSE_BYTES} bytes",
                    status=response.status_code,
                    request=what,
                )
            chunks.append(chunk)
    except requests.Timeout as exc:
        raise IcwsTimeout(f"Response not complete within {timeout:g} s", request=what) from exc
    except requests.RequestException as exc:
        raise IcwsConnectionError(
            f"Connection broke while reading the response: {type(exc).__name__}", request=what
        ) from exc
    return b"".join(chunks)


def _decode(raw: bytes, status: int, what: str) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        if status >= 400:
            # Proxies send HTML error pages; keep their text, the status says enough.
            return raw[:2000].decode("utf-8", "replace")
        raise IcwsProtocolError(
            "Response body is not valid JSON", status=status, request=what
        ) from exc
