"""Every malformed answer is typed: ``IcwsProtocolError``, never AttributeError or RecursionError.

A rogue server over real HTTP answers whatever a test sets; the connect is a good 201 unless the
test is about the connect itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from icws_client import Campaign, IcwsClient, IcwsError, IcwsProtocolError, User, UserStatus
from icws_client.models import Connection, Feature, StatusMessage, Workgroup

GOOD_201 = json.dumps({"sessionId": "1", "csrfToken": "t", "alternateHostList": []}).encode()
DEEP = b"[" * 200_000 + b"]" * 200_000
DEEP_OBJECT = b'{"a":' * 200_000 + b"1" + b"}" * 200_000

MALFORMED = {
    "a list": b"[1, 2, 3]",
    "a string": b'"sessionId"',
    "empty": b"",
    "a number": b"42",
    "null": b"null",
    "not JSON": b"<html>oops</html>",
    "nested 200,000 deep (arrays)": DEEP,
    "nested 200,000 deep (objects)": DEEP_OBJECT,
}


class _Rogue(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, tuple[int, bytes]] = {}

    def answer(self, path: str) -> tuple[int, bytes]:
        for prefix, answer in self.answers.items():
            if path.startswith(prefix):
                return answer
        if path.startswith("/icws/connection"):
            return 201, GOOD_201
        return 200, b"{}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Rogue

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status, body = self.server.answer(self.path.split("?")[0])
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.inin.icws+json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if status == 201:
            self.send_header("Set-Cookie", "icws_1=c; Path=/icws/1")
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rogue() -> Iterator[_Rogue]:
    server = _Rogue()
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _client(rogue: _Rogue) -> IcwsClient:
    port = rogue.server_address[1]
    return IcwsClient(f"http://127.0.0.1:{port}", "u", "p", timeout=5, read_retries=0)


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_201_is_a_protocol_error(rogue, body):
    rogue.answers["/icws/connection"] = (201, body)
    with pytest.raises(IcwsProtocolError) as info:
        _client(rogue).connect()
    assert isinstance(info.value, IcwsError)


@pytest.mark.parametrize(
    "body",
    [
        *MALFORMED.values(),
        b'{"items": "users"}',
        b'{"items": [1, "x", null]}',
        b'{"items": [{"configurationId": []}]}',
        # Each kind's list property (users: workgroups, workgroups: members, campaigns: status).
        b'{"items": [{"configurationId": {"id": "a"}, "workgroups": "w", "members": "m", '
        b'"status": "s"}]}',
        b'{"items": [{"configurationId": {"id": "a"}, "workgroups": [1], "members": [1], '
        b'"status": [true]}]}',
    ],
    ids=[*MALFORMED.keys(), "items a string", "items junk", "id a list", "lists strings", "1s"],
)
@pytest.mark.parametrize("read", ["list_users", "list_workgroups", "list_campaigns"])
def test_a_malformed_list_is_a_protocol_error(rogue, read, body):
    rogue.answers["/icws/1/configuration/"] = (200, body)
    with pytest.raises(IcwsProtocolError):
        getattr(_client(rogue), read)()


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_other_malformed_reads_are_protocol_errors(rogue, body):
    rogue.answers["/icws/connection/features"] = (200, body)
    rogue.answers["/icws/1/status/"] = (200, body)
    c = _client(rogue)
    for read in (c.features, c.list_status_messages, lambda: c.get_user_status("a")):
        with pytest.raises(IcwsProtocolError):
            read()


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_a_deeply_nested_error_body_keeps_its_status(rogue, body):
    rogue.answers["/icws/1/dialer/"] = (400, body)
    with pytest.raises(IcwsError) as info:
        _client(rogue).allocate_agents(["a"], campaign_ids_in=["c"])
    assert info.value.status == 400


JUNK = [None, [], "x", 1, True, {"configurationId": "x"}, {"configurationId": {"id": 1}}]


@pytest.mark.parametrize(
    "parse",
    [
        Connection.from_json,
        Feature.from_json,
        User.from_json,
        Workgroup.from_json,
        Campaign.from_json,
        StatusMessage.from_json,
        UserStatus.from_json,
    ],
)
@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_every_parser_types_its_failures(parse, junk):
    with pytest.raises(IcwsProtocolError):
        parse(junk)
