"""The move preview (confirmation) and submit, with and without htmx."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.directory.models import Agent, Campaign, RosterEntry

HX = {"HX-Request": "true"}


def pick(column: str, agent: str, version: int = 0) -> str:
    return f"{quote(column, safe='')}/{quote(agent, safe='')}/{version}"


@pytest.fixture(autouse=True)
def no_enqueue():
    from unittest import mock

    from dashboard.allocations import submit

    with mock.patch.object(submit, "_enqueue_on_commit", autospec=True) as enqueue:
        yield enqueue


class TestPreview:
    def test_it_previews_headcounts_and_the_hidden_fields(self, client, mover, dir_small):
        client.force_login(mover)
        response = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C2}"}, headers=HX
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "Move Agent 1 to Winback" in html
        assert "<html" not in html  # the dialog body only
        # The confirm form carries what the preview was built from: the picks and the target.
        assert 'name="target" value="{C2}"' in html
        assert 'name="picks" value="%7BC1%7D/a1/0"' in html
        assert "2 → <strong>1</strong>" in html  # Renewals loses one
        assert "0 → <strong>1</strong>" in html  # Winback gains one

    def test_it_warns_about_calls_off_campaigns_and_agents_left_without_one(
        self, client, mover, dir_small
    ):
        Agent.objects.filter(id="a1").update(on_phone=True, logged_in=True)
        client.force_login(mover)
        html = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C3}"}
        ).content.decode()
        assert "On a call now: Agent 1" in html
        assert "Surveys is off" in html
        unassign = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": ""}
        ).content.decode()
        assert "Left in no campaign: Agent 1" in unassign

    def test_a_selection_from_several_columns_says_who_leaves_a_column_they_were_not_picked_from(
        self, client, mover, dir_small
    ):
        _, _, c3 = dir_small["campaigns"]
        a1, _, a3, _ = dir_small["agents"]
        RosterEntry.objects.create(agent=a1, campaign=c3)
        RosterEntry.objects.create(agent=a3, campaign=c3)
        client.force_login(mover)
        html = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1"), pick("{C3}", "a3")], "target": "{C2}"}
        ).content.decode()
        assert "each agent leaves every one of them: Agent 1 (also leaves Surveys)" in html
        assert "Agent 3 (also" not in html
        one_column = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C2}"}
        ).content.decode()
        assert "also leaves" not in one_column

    def test_a_card_moved_since_the_board_loaded_is_flagged(self, client, mover, dir_small):
        Agent.objects.filter(id="a1").update(roster_version=3)
        client.force_login(mover)
        html = client.get(
            "/moves/preview", {"pick": [pick("{C1}", "a1", 2)], "target": "{C2}"}
        ).content.decode()
        assert "Moved by someone else since your board loaded: Agent 1" in html

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"target": "{C2}"}, "Select at least one agent"),
            ({"pick": ["garbage"], "target": "{C2}"}, "could not be read"),
            ({"pick": [pick("{C1}", "ghost")], "target": "{C2}"}, "Unknown or inactive agents"),
            ({"pick": [pick("{C1}", "a1")], "target": "{GONE}"}, "no longer exists"),
            ({"pick": [pick("{C1}", "a1")], "target": "{C1}"}, "already in that campaign"),
            ({"pick": [pick("", "a3")], "target": ""}, "already unassigned"),
        ],
    )
    def test_bad_picks_get_a_clear_message(self, client, mover, dir_small, params, message):
        client.force_login(mover)
        response = client.get("/moves/preview", params, headers=HX)
        assert response.status_code == 400
        assert message in response.content.decode()

    def test_an_auditor_may_not_open_it(self, client, auditor, dir_small):
        client.force_login(auditor)
        response = client.get("/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C2}"})
        assert response.status_code == 403


def _submit(client, headers=None, **fields):
    data = {
        "picks": pick("{C1}", "a1"),
        "target": "{C2}",
        "reason": "Winback short",
        "idempotency_key": "k-1",
    }
    data.update(fields)
    return client.post("/moves/", data, headers=headers or {})


class TestSubmit:
    def test_with_htmx_it_answers_the_polling_job_status(self, client, mover, dir_small):
        client.force_login(mover)
        response = _submit(client, headers=HX)
        job = AllocationJob.objects.get()
        html = response.content.decode()
        assert response.status_code == 200
        assert f'data-job-id="{job.pk}"' in html
        assert 'data-job-status="queued"' in html
        assert f'hx-get="/jobs/{job.pk}/status"' in html
        assert "jobSubmitted" in response["HX-Trigger"]
        assert job.reason == "Winback short"
        assert job.expected_versions == {"a1": 0}

    def test_without_htmx_it_redirects_to_the_job(self, client, mover, dir_small):
        client.force_login(mover)
        response = _submit(client)
        job = AllocationJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/jobs/{job.pk}/"

    def test_a_double_submit_makes_one_job(self, client, mover, dir_small):
        client.force_login(mover)
        _submit(client, headers=HX)
        _submit(client, headers=HX)
        assert AllocationJob.objects.count() == 1

    def test_a_stale_roster_is_a_conflict_shown_in_the_dialog(self, client, mover, dir_small):
        Agent.objects.filter(id="a1").update(roster_version=5)
        client.force_login(mover)
        response = _submit(client, headers=HX)
        assert response.status_code == 409
        assert response["HX-Retarget"] == "#move-dialog-body"
        assert "roster changed" in response.content.decode()
        assert not AllocationJob.objects.exists()

    def test_bad_fields_are_refused_with_the_field_named(self, client, mover, dir_small):
        client.force_login(mover)
        response = _submit(client, headers=HX, reason="x" * 501)
        assert response.status_code == 400
        html = response.content.decode()  # beside the reason field, which says it is wrong
        assert 'id="move-reason-error" role="alert" data-move-reason-error>At most 500' in html
        assert 'aria-invalid="true" aria-describedby="move-reason-error"' in html
        response = _submit(client, headers=HX, picks=pick("{C1}", "a1") + "x")
        assert response.status_code == 400
        assert "roster versions" in response.content.decode()
        assert not AllocationJob.objects.exists()

    def test_an_auditor_is_refused(self, client, auditor, dir_small):
        client.force_login(auditor)
        assert _submit(client, headers=HX).status_code == 403
        assert not AllocationJob.objects.exists()

    def test_csrf_is_required(self, mover, dir_small):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        strict.force_login(mover)
        assert _submit(strict, headers=HX).status_code == 403
        assert not AuditEvent.objects.filter(kind="requested").exists()


def test_campaign_names_with_markup_are_escaped_in_the_preview(client, mover, dir_small):
    Campaign.objects.filter(id="{C2}").update(name="<img src=x onerror=alert(1)>")
    client.force_login(mover)
    html = client.get(
        "/moves/preview", {"pick": [pick("{C1}", "a1")], "target": "{C2}"}
    ).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


# -- bulk selections: a POST of one field, the submit rebuilt from the preview's inputs ----------


def _campaign_of(n_agents: int, *, n_campaigns: int = 1, second_card_every: int = 0):
    """``n_agents`` agents spread over ``n_campaigns`` campaigns (ids {B0000}...), and every
    ``second_card_every``-th agent also in the next campaign (two cards, one agent)."""
    campaigns = Campaign.objects.bulk_create(
        Campaign(id=f"{{B{i:04d}}}", name=f"Bulk {i}", state="on") for i in range(n_campaigns)
    )
    target = Campaign.objects.create(id="{T}", name="Target", state="on")
    agents = Agent.objects.bulk_create(
        Agent(id=f"b{i:05d}", name=f"Bulk agent {i:05d}", roster_version=i % 3)
        for i in range(n_agents)
    )
    entries, picks = [], []
    for i, agent in enumerate(agents):
        home = campaigns[i % n_campaigns]
        entries.append(RosterEntry(agent=agent, campaign=home))
        picks.append(pick(home.id, agent.id, agent.roster_version))
        if second_card_every and i % second_card_every == 0 and n_campaigns > 1:
            other = campaigns[(i + 1) % n_campaigns]
            entries.append(RosterEntry(agent=agent, campaign=other))
            picks.append(pick(other.id, agent.id, agent.roster_version))
    RosterEntry.objects.bulk_create(entries, batch_size=2000)
    return agents, picks, target


class TestBulk:
    def test_a_preview_of_5000_agents_names_each_once_in_order(self, client, mover):
        agents, picks, target = _campaign_of(5000, n_campaigns=200, second_card_every=4)
        client.force_login(mover)
        response = client.post(
            "/moves/preview", {"picks": "\n".join(picks), "target": target.id}, headers=HX
        )
        html = response.content.decode()
        assert response.status_code == 200, html[:500]
        assert "Move 5000 agents to Target" in html
        assert "Move 5000 agents</button>" in html  # agents, not the 6,250 cards
        # Each agent's own name beside its id, in pick order, once.
        position = 0
        for agent in agents:
            line = f'<li>{agent.name} <span class="muted">({agent.id})</span></li>'
            found = html.find(line, position)
            assert found > position, agent.id
            position = found
        assert html.count("<li>Bulk agent ") == 5000

    def test_more_picks_than_django_allows_fields_preview_and_move(self, client, mover):
        agents, picks, target = _campaign_of(1500, n_campaigns=3, second_card_every=2)
        assert len(picks) > 1000  # DATA_UPLOAD_MAX_NUMBER_FIELDS
        client.force_login(mover)
        data = {"picks": "\n".join(picks), "target": target.id}
        preview = client.post("/moves/preview", data, headers=HX)
        assert preview.status_code == 200
        assert "Move 1500 agents" in preview.content.decode()
        response = _submit(client, headers=HX, **data)
        assert response.status_code == 200, response.content.decode()[:500]
        job = AllocationJob.objects.get()
        assert job.agent_ids == [a.id for a in agents]
        assert job.campaign_ids_in == ["{T}"]
        assert job.campaign_ids_out == ["{B0000}", "{B0001}", "{B0002}"]
        # One version per agent, for the whole move, as the board showed it.
        assert job.expected_versions == {a.id: a.roster_version for a in agents}

    def test_the_submit_is_the_move_the_preview_showed(self, client, mover, dir_small):
        client.force_login(mover)
        data = {"picks": pick("{C1}", "a1") + "\n" + pick("{C1}", "a2"), "target": "{C2}"}
        html = client.post("/moves/preview", data, headers=HX).content.decode()
        assert "Move 2 agents to Winback" in html
        response = _submit(client, headers=HX, **data)
        assert response.status_code == 200
        job = AllocationJob.objects.get()
        assert (job.agent_ids, job.campaign_ids_in, job.campaign_ids_out) == (
            ["a1", "a2"],
            ["{C2}"],
            ["{C1}"],
        )
        assert job.expected_versions == {"a1": 0, "a2": 0}

    def test_the_old_per_move_fields_are_not_a_second_way_in(self, client, mover, dir_small):
        """Only the picks and the target make a move: stray agent_ids cannot widen it."""
        client.force_login(mover)
        _submit(client, headers=HX, agent_ids=["a1", "a2", "a3"], campaign_ids_in=["{C3}"])
        job = AllocationJob.objects.get()
        assert (job.agent_ids, job.campaign_ids_in) == (["a1"], ["{C2}"])

    def test_more_agents_than_a_move_may_hold_is_a_400(self, client, mover, dir_small, settings):
        settings.ALLOCATION_MAX_AGENTS = 3
        client.force_login(mover)
        picks = "\n".join(pick("{C1}", f"a{i}") for i in range(1, 5))
        response = client.post("/moves/preview", {"picks": picks, "target": "{C2}"}, headers=HX)
        assert response.status_code == 400
        assert "at most 3 agents" in response.content.decode()

    def test_the_preview_post_needs_csrf(self, mover, dir_small):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        strict.force_login(mover)
        data = {"picks": pick("{C1}", "a1"), "target": "{C2}"}
        assert strict.post("/moves/preview", data, headers=HX).status_code == 403


class TestUnreadableInput:
    """Issue 17: input Python reads as digits but int() refuses, control characters."""

    def test_a_superscript_version_in_a_pick_is_a_400_naming_the_field(
        self, client, mover, dir_small
    ):
        client.force_login(mover)
        response = client.get("/moves/preview", {"pick": ["%7BC1%7D/a1/²"], "target": "{C2}"})
        assert response.status_code == 400
        assert "pick: the roster versions" in response.content.decode()
        response = client.post("/moves/preview", {"picks": "%7BC1%7D/a1/²", "target": "{C2}"})
        assert response.status_code == 400
        assert "picks: the roster versions" in response.content.decode()

    def test_a_superscript_version_on_the_move_form_is_a_400_naming_the_field(
        self, client, mover, dir_small
    ):
        client.force_login(mover)
        response = _submit(client, headers=HX, picks="%7BC1%7D/a1/²")
        assert response.status_code == 400
        assert response["HX-Retarget"] == "#move-dialog-body"
        assert "picks: the roster versions" in response.content.decode()
        response = _submit(client, picks="%7BC1%7D/a1/²")  # and without htmx
        assert response.status_code == 400
        assert "picks: the roster versions" in response.content.decode()
        assert not AllocationJob.objects.exists()

    @pytest.mark.postgres_too
    @pytest.mark.parametrize(
        ("data", "name"),
        [
            ({"picks": "%7BC1%7D/a%001/0", "target": "{C2}"}, "picks"),
            ({"picks": "%7BC1%7D/a1/0", "target": "{C2}\x00"}, "target"),
            ({"picks": "%7BC1%7D/" + "a" * 201 + "/0", "target": "{C2}"}, "picks"),
            ({"picks": "%7BC1%7D/a1/" + "9" * 5000, "target": "{C2}"}, "picks"),
        ],
    )
    def test_control_characters_long_ids_and_huge_versions_are_a_400(
        self, client, mover, dir_small, data, name
    ):
        client.force_login(mover)
        for url in ("/moves/preview", "/moves/"):
            response = client.post(url, data, headers=HX)
            assert response.status_code == 400, url
            assert name in response.content.decode()


class TestReasonRefused:
    def test_a_refused_reason_shows_in_place_and_keeps_the_selection(
        self, client, mover, dir_small
    ):
        client.force_login(mover)
        picks = pick("{C1}", "a1") + "\n" + pick("{C1}", "a2")
        response = _submit(client, headers=HX, picks=picks, reason="short\u202ehandover")
        html = response.content.decode()
        assert response.status_code == 400
        assert response["HX-Retarget"] == "#move-dialog-body"
        assert "data-move-confirm" in html  # the confirm form, not an error page
        assert "Move 2 agents to Winback" in html
        assert 'name="picks" value="%7BC1%7D/a1/0\n%7BC1%7D/a2/0"' in html
        assert "data-move-reason-error" in html
        assert "control or text-direction characters" in html
        # Which character and where, beside the field (not "The move is not valid: reason: ...").
        assert "U+202E RIGHT-TO-LEFT OVERRIDE after “short”" in html
        assert "The move is not valid" not in html
        assert 'value="short\u202ehandover"' in html  # what was typed, to correct
        assert not AllocationJob.objects.exists()
        fixed = _submit(client, headers=HX, picks=picks, reason="short handover")
        assert fixed.status_code == 200
        assert AllocationJob.objects.get().agent_ids == ["a1", "a2"]


def test_without_javascript_the_ticked_cards_preview_and_the_confirm_page_moves(
    client, mover, dir_small
):
    """The board form's GET (one ``pick`` per ticked card) gives the confirm page, whose form
    posts the picks back in one field."""
    import re
    from html import unescape

    client.force_login(mover)
    page = client.get(
        "/moves/preview", {"pick": [pick("{C1}", "a1"), pick("{C1}", "a2")], "target": "{C2}"}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "<html" in html  # a whole page
    fields = {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html)
    }
    response = client.post("/moves/", {**fields, "reason": "no js"})
    job = AllocationJob.objects.get()
    assert response.status_code == 302
    assert (job.agent_ids, job.campaign_ids_in, job.campaign_ids_out) == (
        ["a1", "a2"],
        ["{C2}"],
        ["{C1}"],
    )
