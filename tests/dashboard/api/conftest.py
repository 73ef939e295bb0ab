import secrets
from unittest import mock

import pytest

from dashboard.accounts.models import ApiToken
from dashboard.allocations import submit


@pytest.fixture(autouse=True)
def no_enqueue():
    """Unit tests of the API stop at the queue; tests/integration runs the real worker."""
    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True) as enqueue:
        yield enqueue


def token_for(user) -> str:
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key), prefix=key[:8])
    return key


@pytest.fixture
def api(client):
    """A test client that sends ``Authorization: Token`` for ``api.as_user(user)``."""

    class Api:
        def __init__(self):
            self.headers = {}

        def as_user(self, user):
            self.headers = {"Authorization": f"Token {token_for(user)}"}
            return self

        def get(self, path, data=None, **extra):
            return client.get(path, data, headers=self.headers, **extra)

        def post(self, path, body=None, headers=None, **extra):
            return client.post(
                path,
                body if isinstance(body, str | bytes) else (body if body is not None else {}),
                content_type="application/json",
                headers={**self.headers, **(headers or {})},
                **extra,
            )

    return Api()
