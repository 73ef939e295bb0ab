"""The only module that talks to ``requests``.

It sends one request under one overall deadline (``_deadline``: connect, headers and body together
take at most ``timeout`` seconds) and turns what comes back into a ``Reply`` or a typed transport
error. It never retries and never follows redirects: those are policy, and policy lives in
``session.py`` and ``client.py``.

Outcomes
    * connecting failed or took too long: ``IcwsConnectionError`` (nothing reached the server);
    * the deadline passed before the status line: ``IcwsTimeout(status_received=False)``, outcome
      unknown (``sent`` says whether the request had gone out whole);
    * the deadline passed after the status line: ``IcwsTimeout(status_received=True,
      status=...)``; for writes ``session.py`` takes that status as the answer ("a 202 is the
      answer");
    * otherwise a ``Reply``.
"""

from __future__ import annotations

import http.cookiejar
import json
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3.exceptions

from . import _deadline
from .exceptions import IcwsConnectionError, IcwsProtocolError, IcwsTimeout

ICWS_MEDIA_TYPE = "application/vnd.inin.icws+JSON"
JSON_CONTENT_TYPE = f"{ICWS_MEDIA_TYPE};charset=utf-8"
# Largest response body we are willing to decode; a 5,000-user list with workgroups is ~2 MB.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 65536


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
    complete: bool = True  # False: the status line came, the body did not finish in time


def new_session() -> requests.Session:
    return prepare(requests.Session())


def prepare(session: requests.Session) -> requests.Session:
    """No cookie jar, no proxies or netrc from the environment, and the deadline adapter."""
    session.cookies.set_policy(_NoCookies())
    session.trust_env = False
    _deadline.install(session)
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
    call = _deadline.start(timeout)
    try:
        try:
            response = session.request(
                method,
                url,
                headers=all_headers,
                params=params,
                data=data,
                timeout=(timeout, timeout),  # each wait; the watchdog bounds the sum
                allow_redirects=False,
                stream=True,
            )
        except requests.ConnectTimeout as exc:
            # Nothing was sent: a connection failure, not a request whose outcome is unknown.
            raise IcwsConnectionError(
                f"Could not connect to the ICWS server within {timeout:g} s", request=what
            ) from exc
        except requests.RequestException as exc:
            if call.expired or isinstance(exc, requests.Timeout):
                raise _timeout(call, timeout, what) from exc
            raise IcwsConnectionError(
                f"Could not reach the ICWS server: {type(exc).__name__}",
                request=what,
                sent=call.sent,
            ) from exc
        try:
            raw = _read_capped(response, call, timeout=timeout, what=what)
        finally:
            response.close()
    finally:
        _deadline.end(call)
    cookies = {name: value for name, value in response.cookies.items()}
    return Reply(
        status=response.status_code,
        headers=dict(response.headers),
        body=_decode(raw, response.status_code, what),
        cookies=cookies,
    )


def _timeout(call: _deadline.Call, timeout: float, what: str) -> IcwsTimeout:
    if call.status is not None:
        return IcwsTimeout(
            f"HTTP {call.status} arrived but the rest of the answer did not within {timeout:g} s",
            status=call.status,
            request=what,
            sent=True,
            status_received=True,
        )
    return IcwsTimeout(
        f"No answer within {timeout:g} s", request=what, sent=call.sent, status_received=False
    )


def _read_capped(
    response: requests.Response, call: _deadline.Call, *, timeout: float, what: str
) -> bytes:
    """The body, in chunks, checking the deadline between them; capped at MAX_RESPONSE_BYTES."""
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if call.remaining() <= 0 or call.expired:
                raise _timeout(call, timeout, what)
            # read1 returns what one socket read gives, so a trickle cannot hold us in one call.
            chunk = response.raw.read1(CHUNK_BYTES, decode_content=True)
            if not chunk:
                if call.expired:  # the watchdog shut the socket: that end-of-file is not the end
                    raise _timeout(call, timeout, what)
                break
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise IcwsProtocolError(
                    f"Response larger than {MAX_RESPONSE_BYTES} bytes",
                    status=response.status_code,
                    request=what,
                )
            chunks.append(chunk)
    except IcwsTimeout:
        raise
    except (requests.RequestException, OSError, urllib3.exceptions.HTTPError) as exc:
        if call.expired or _is_timeout(exc):
            raise _timeout(call, timeout, what) from exc
        raise IcwsConnectionError(
            f"Connection broke while reading the response: {type(exc).__name__}",
            request=what,
            sent=True,
        ) from exc
    return b"".join(chunks)


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError | requests.Timeout | urllib3.exceptions.TimeoutError)


def _decode(raw: bytes, status: int, what: str) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if status >= 400:
            # Proxies send HTML error pages; keep their text, the status says enough.
            return raw[:2000].decode("utf-8", "replace")
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "not valid JSON"
        raise IcwsProtocolError(f"Response body is {reason}", status=status, request=what) from None
