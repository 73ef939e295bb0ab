"""Simulator fixtures: ``simulator`` (a running Simulator) and ``icws_session`` (raw HTTP to it)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import SERVICE_PASSWORD, SERVICE_USER

CONNECT_TYPE = "urn:inin.com:connection:icAuthConnectionRequestSettings"


def connect(
    base_url: str,
    user: str = SERVICE_USER,
    password: str = SERVICE_PASSWORD,
    *,
    include: str | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> requests.Response:
    """POST /icws/connection with an icAuthConnectionRequestSettings body."""
    if body is None:
        body = {
            "__type": CONNECT_TYPE,
            "applicationName": "tests",
            "userID": user,
            "password": password,
        }
    return requests.post(
        f"{base_url}/icws/connection",
        params={"include": include} if include else None,
        json=body,
        headers={"Accept-Language": "en-us", **(headers or {})},
        timeout=5,
    )


class IcwsSession:
    """A logged-in session; ``get``/``post``/... add the CSRF header and the session cookie."""

    def __init__(self, base_url: str, response: requests.Response) -> None:
        assert response.status_code == 201, response.text
        body = response.json()
        self.base_url = base_url
        self.session_id: str = body["sessionId"]
        self.csrf_token: str = body["csrfToken"]
        self.cookie_name = f"icws_{self.session_id}"
        self.cookie_value: str = response.cookies[self.cookie_name]
        self.body = body

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Accept-Language": "en-us",
            "ININ-ICWS-CSRF-Token": self.csrf_token,
            "Cookie": f"{self.cookie_name}={self.cookie_value}",
        }

    def url(self, path: str) -> str:
        return f"{self.base_url}/icws/{self.session_id}{path}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, self.url(path), headers=headers, timeout=5, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def open_session(
    base_url: str, user: str = SERVICE_USER, password: str = SERVICE_PASSWORD
) -> IcwsSession:
    return IcwsSession(base_url, connect(base_url, user, password))


@pytest.fixture
def simulator(sim):
    """The simulator tests' name for the shared ``sim`` fixture (tests/conftest.py)."""
    return sim


@pytest.fixture
def icws_session(simulator) -> IcwsSession:
    """The service account's session on ``simulator``."""
    return open_session(simulator.base_url)
