"""Requests, responses and the route table shared by the ICWS and /sim endpoints."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .errors import ErrorAnswer, bad_request

if TYPE_CHECKING:
    from .sessions import Session

JSON_MEDIA_TYPES = ("application/json", "application/vnd.inin.icws+json")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


@dataclass
class Request:
    method: str
    path: str  # without the query string, still percent-encoded
    query: dict[str, str]
    headers: Message
    host: str  # Host header's host name, lower case, no port
    raw_body: bytes = b""
    body_error: ErrorAnswer | None = None
    session: Session | None = None
    trickle: float = 0.0  # set by the faults: answer with the body a byte at a time

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def cookie(self, name: str) -> str | None:
        """The value of cookie ``name`` from the Cookie header(s), or None."""
        for header in self.headers.get_all("Cookie") or []:
            for pair in header.split(";"):
                key, sep, value = pair.strip().partition("=")
                if sep and key.strip() == name:
                    return value.strip().strip('"')
        return None

    def json(self) -> Any:
        """The decoded JSON body, or None if there is none. Raises 400/415 ``ErrorAnswer``."""
        if not self.raw_body.strip():
            return None
        content_type = self.headers.get("Content-Type")
        if content_type is not None:
            media, *params = (p.strip() for p in content_type.split(";"))
            if media.lower() not in JSON_MEDIA_TYPES:
                raise ErrorAnswer(
                    415, None, f"Content-Type must be one of {', '.join(JSON_MEDIA_TYPES)}."
                )
            for param in params:
                key, _, value = param.partition("=")
                if key.strip().lower() == "charset" and value.strip('"').lower() not in (
                    "utf-8",
                    "utf8",
                ):
                    raise ErrorAnswer(415, None, "Request bodies must be encoded as UTF-8.")
        try:
            text = self.raw_body.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_request("The request body is not valid UTF-8.") from None
        try:
            return json.loads(text, parse_constant=_no_constants)
        except RecursionError:
            raise bad_request("The request body is nested too deeply.") from None
        except ValueError as exc:
            raise bad_request(f"The request body is not valid JSON: {exc}.") from None


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering (the "down" fault)
    trickle: float = 0.0  # seconds between body bytes (the "trickle" fault)
    # server-sent events (messaging.py): called with a write(bytes) after the headers
    stream: Callable[[Callable[[bytes], None]], None] | None = None


Handler = Callable[[Any, Request, dict[str, str]], Response]


@dataclass
class Route:
    template: str
    methods: dict[str, Handler]
    session: bool = False  # under /icws/{sessionId}: needs session id, CSRF token and cookie
    csrf_optional: bool = False  # messaging/messages: the cookie is enough
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        self.pattern = re.compile(f"^{regex}$")


@dataclass
class Match:
    route: Route | None
    params: dict[str, str]

    @property
    def template(self) -> str:
        return self.route.template if self.route else "(no route)"


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def match(self, path: str) -> Match:
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                params = {k: unquote(v, errors="strict") for k, v in found.groupdict().items()}
                return Match(route, params)
        return Match(None, {})
