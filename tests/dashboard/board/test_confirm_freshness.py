"""An open confirmation says what changed since it opened, and a submit of a state the
supervisor was not shown asks again instead of moving."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.db.models import F

from dashboard.allocations.models import AllocationJob
from dashboard.directory.models import Agent, RosterEntry

HX = {"HX-Request": "true"}
pytestmark = pytest.mark.postgres_too


@pytest.fixture(autouse=True)
def no_enqueue():
    from unittest import mock

    from dashboard.allocations import submit

    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True) as enqueue:
        yield enqueue


def field(html: str, name: str) -> str:
    return unescape(re.search(rf'name="{name}" value="([^"]*)"', html).group(1))


def open_dialog(client) -> dict:
    picks = "\n".join(f"{quote('{C1}')}/{a}/0" for a in ("a1", "a2"))
    html = client.post("/moves/preview", {"picks": picks, "target": "{C2}"}, headers=HX)
    html = html.content.decode()
    names = ("picks", "target", "snapshot", "seen", "rev", "idempotency_key")
    return {name: field(html, name) for name in names}


def check(client, form):
    return client.post("/moves/check", form, headers=HX)


def test_unchanged_it_is_204_and_a_change_is_said(client, mover, dir_small):
    client.force_login(mover)
    form = open_dialog(client)
    assert check(client, form).status_code == 204
    # Someone else puts a3 into Winback; a1 takes a call.
    RosterEntry.objects.create(agent_id="a3", campaign_id="{C2}")
    Agent.objects.filter(id="a3").update(roster_version=F("roster_version") + 1)
    Agent.objects.filter(id="a1").update(logged_in=True, on_phone=True)
    response = check(client, form)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Since you opened this:" in html
    assert "Winback has 1 agents now (0 when you opened this)" in html
    assert "Agent 1 is now on a call" in html
    assert field(html, "seen") != form["seen"]
    # The headcounts table comes along out of band, as it is now: Winback 1 -> 3.
    assert 'id="move-figures" hx-swap-oob="true"' in html
    assert "1 → <strong>3</strong>" in html


def test_a_confirm_of_headcounts_not_shown_asks_again_and_then_moves(client, mover, dir_small):
    client.force_login(mover)
    form = open_dialog(client)
    RosterEntry.objects.create(agent_id="a4", campaign_id="{C1}")  # someone else's move
    Agent.objects.filter(id="a2").update(logged_in=True, status_id="At Lunch")
    response = client.post("/moves/", form, headers=HX)
    html = response.content.decode()
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#move-dialog-body"
    assert "Renewals has 3 agents now (2 when you opened this)" in html
    assert "Agent 2 is now away" in html and "Nothing was moved" in html
    assert not AllocationJob.objects.exists()
    again = {**form, "seen": field(html, "seen"), "snapshot": field(html, "snapshot")}
    assert client.post("/moves/", again, headers=HX).status_code == 200
    assert AllocationJob.objects.count() == 1


def test_a_move_by_someone_else_is_still_refused_on_confirm(client, mover, dir_small):
    client.force_login(mover)
    form = open_dialog(client)
    Agent.objects.filter(id="a1").update(roster_version=F("roster_version") + 1)
    html = check(client, form).content.decode()
    assert "moved by someone else: Agent 1" in html
    response = client.post("/moves/", {**form, "seen": field(html, "seen")}, headers=HX)
    assert response.status_code == 409  # the roster versions: allocations refuses
    assert not AllocationJob.objects.exists()


def test_a_bad_snapshot_is_a_400_naming_it(client, mover, dir_small):
    client.force_login(mover)
    form = open_dialog(client)
    response = check(client, {**form, "rev": "", "snapshot": "{not json"})
    assert response.status_code == 400
    assert "snapshot:" in response.content.decode()
    response = client.post("/moves/", {**form, "snapshot": '{"h": 1}'}, headers=HX)
    assert response.status_code == 400
    assert "snapshot" in response.content.decode()


def test_a_presence_change_alone_is_shown_but_does_not_hold_the_confirm(client, mover, dir_small):
    """Across a large selection some agent changes state every few seconds: the confirm must
    not have to race that. The dialog shows it; the submit goes ahead."""
    client.force_login(mover)
    form = open_dialog(client)
    Agent.objects.filter(id="a1").update(logged_in=True, on_phone=True)
    assert "Agent 1 is now on a call" in check(client, {**form, "rev": ""}).content.decode()
    assert client.post("/moves/", form, headers=HX).status_code == 200
    assert AllocationJob.objects.count() == 1


def test_rosters_back_as_they_were_when_it_opened_are_confirmed(client, mover, dir_small):
    client.force_login(mover)
    form = open_dialog(client)
    entry = RosterEntry.objects.create(agent_id="a4", campaign_id="{C1}")
    Agent.objects.filter(id="a4").update(roster_version=F("roster_version") + 1)
    html = check(client, form).content.decode()
    shown = {**form, "seen": field(html, "seen")}
    entry.delete()  # and undone again before the confirm: what it opened with
    Agent.objects.filter(id="a4").update(roster_version=F("roster_version") + 1)
    assert client.post("/moves/", shown, headers=HX).status_code == 200


class _Tree(HTMLParser):
    """Each element of an HTML fragment with its attributes and its ancestors' (nearest first)."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "wbr", "area", "col"}

    def __init__(self):
        super().__init__()
        self.open: list[dict] = []
        self.elements: list[tuple[str, dict, list[dict]]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs, list(reversed(self.open))))
        if tag not in self.VOID:
            self.open.append(attrs)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.open:
            self.open.pop()


def _inherited(attrs: dict, ancestors: list[dict], name: str) -> str | None:
    """``name`` as htmx resolves it for an element: its own, else the nearest ancestor's, unless
    that ancestor or one between says hx-disinherit for it (htmx 2's getClosestAttributeValue)."""
    if name in attrs:
        return attrs[name]
    for ancestor in ancestors:
        disinherit = (ancestor.get("hx-disinherit") or "").split()
        if "*" in disinherit or name in disinherit:
            return None
        if name in ancestor:
            return ancestor[name]
    return None


def test_the_dialogs_poll_disables_nothing(client, mover, dir_small):
    """The move-check poll sits inside the confirm form, whose hx-disabled-elt="find button"
    it must not inherit: the poll holds no button, and htmx logged "returned no matches" as a
    console error at every poll (every second the dialog was open)."""
    client.force_login(mover)
    picks = f"{quote('{C1}')}/a1/0"
    html = client.post("/moves/preview", {"picks": picks, "target": "{C2}"}, headers=HX)
    tree = _Tree()
    tree.feed(html.content.decode())
    polls = [(a, up) for _tag, a, up in tree.elements if a.get("hx-trigger") == "every 1s"]
    assert [a.get("id") for a, _up in polls] == ["move-changes"]
    ((attrs, ancestors),) = polls
    assert _inherited(attrs, ancestors, "hx-disabled-elt") is None
    # The confirm itself still disables its buttons while it is sent.
    (form,) = [a for tag, a, _up in tree.elements if "data-move-confirm" in a and tag == "form"]
    assert form["hx-disabled-elt"] == "find button"
