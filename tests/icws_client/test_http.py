"""icws_client._http: which transport failure becomes which error (one seam: the session)."""

from __future__ import annotations

from unittest import mock

import pytest
import requests

from icws_client import IcwsConnectionError, IcwsTimeout
from icws_client._http import send


@pytest.mark.parametrize(
    ("raised", "expected", "words"),
    [
        # Never connected: nothing was sent, so nothing can have been applied.
        (requests.ConnectTimeout(), IcwsConnectionError, "Could not connect"),
        (requests.ConnectionError(), IcwsConnectionError, "Could not reach"),
        # Sent, no answer: the outcome is unknown.
        (requests.ReadTimeout(), IcwsTimeout, "No answer within 2 s"),
    ],
)
def test_transport_failures(raised, expected, words):
    session = mock.Mock(spec=requests.Session)
    session.request.side_effect = raised
    with pytest.raises(expected) as info:
        send(session, "POST", "http://cic1:8018/x", timeout=2, what="POST /x")
    assert type(info.value) is expected
    assert words in str(info.value)
