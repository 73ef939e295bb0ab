"""Bad input, generated: schemathesis over the OpenAPI schema, Hypothesis over request bodies and
the htmx form endpoints. Each part counts 5xx answers and the moves the server accepted, so the
drill can compare them with the jobs that appeared."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.drills.invariants import Result
from bench.drills.stack import ROOT


@dataclass
class FuzzOutcome:
    summary: str = ""
    problems: list[str] = field(default_factory=list)
    accepted: int = 0
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def record(self, name: str, response: requests.Response, accepted_codes=(200, 202)) -> None:
        self.requests += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            self.problems.append(f"{name}: {response.status_code} {response.text[:150]!r}")
        elif response.status_code in accepted_codes:
            self.accepted += 1


def schemathesis_run(web: str, token: str, *, quick: bool) -> FuzzOutcome:
    """Every operation in /api/openapi.json, generated from the schema, checked for no 5xx."""
    outcome = FuzzOutcome()
    har = Path(tempfile.mkdtemp(prefix="st-")) / "run.har"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{web}/api/openapi.json",
        "--checks",
        "not_a_server_error",
        "--header",
        f"Authorization: Token {token}",
        "--max-examples",
        "25" if quick else "150",
        "--max-time",
        "60" if quick else "240",
        "--wait-for-schema",
        "15",
        "--report",
        "har",
        "--report-har-path",
        str(har),
        "--seed",
        "7",
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    for entry in entries:
        status = entry["response"]["status"]
        outcome.requests += 1
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        request = entry["request"]
        if request["method"] == "POST" and request["url"].endswith("/api/allocations"):
            outcome.accepted += status in (200, 202)
        if status >= 500:
            outcome.problems.append(
                f"schemathesis: {request['method']} {request['url']} -> {status}"
            )
    tail = " ".join(run.stdout.strip().splitlines()[-3:])
    if run.returncode not in (0, 1) or not entries:
        outcome.problems.append(f"schemathesis did not run (exit {run.returncode}): {tail[-300:]}")
    elif run.returncode == 1 and not outcome.problems:
        # Its own verdict failed on something other than a 5xx: show its summary.
        outcome.problems.append(f"schemathesis reported failures: {_failures(run.stdout)}")
    outcome.summary = (
        f"schemathesis: {outcome.requests} requests over every operation, statuses "
        f"{dict(sorted(outcome.statuses.items()))}, {len(outcome.problems)} failures"
    )
    return outcome


def _failures(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if re.search(r"(FAILED|Server error|_)", line)]
    return " | ".join(lines[:8])[-600:]


def _id_lists(real: list[str]):
    junk = st.one_of(
        st.text(max_size=300),
        st.integers(),
        st.none(),
        st.booleans(),
        st.floats(allow_nan=True),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    )
    ids = st.one_of(st.sampled_from(real), st.text(max_size=60), junk)
    return st.one_of(st.lists(ids, max_size=8), junk)


def fuzz_api(web: str, token: str, campaigns: list[str], agents: list[str], *, quick: bool):
    """POST /api/allocations and GET /api/audit with generated, mostly wrong, input."""
    outcome = FuzzOutcome()
    http = requests.Session()
    http.headers["Authorization"] = f"Token {token}"
    examples = 150 if quick else 800
    body = st.fixed_dictionaries(
        {},
        optional={
            "agent_ids": _id_lists(agents[:50]),
            "campaign_ids_in": _id_lists(campaigns),
            "campaign_ids_out": _id_lists(campaigns),
            "reason": st.one_of(st.text(max_size=3000), st.integers(), st.none()),
            "expected_versions": st.one_of(
                st.dictionaries(st.text(max_size=20), st.integers()), st.text(), st.none()
            ),
            "surprise": st.text(max_size=10),
        },
    )
    # What a header can carry at all (requests refuses the rest before sending).
    visible_ascii = st.characters(min_codepoint=33, max_codepoint=126)
    key = st.one_of(st.none(), st.text(alphabet=visible_ascii, max_size=300))

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=body, key=key, raw=st.booleans())
    def post_allocations(body, key, raw):
        headers = {}
        if key is not None:
            headers["Idempotency-Key"] = key
        if raw:  # not even JSON sometimes
            response = http.post(
                f"{web}/api/allocations",
                data=json.dumps(body)[:-1],
                headers={**headers, "Content-Type": "application/json"},
                timeout=30,
            )
        else:
            # Serialised here, not by requests: its json= refuses NaN and infinities, which a
            # client may still send (Python's own json writes them) and the API must refuse.
            response = http.post(
                f"{web}/api/allocations",
                data=json.dumps(body),
                headers={**headers, "Content-Type": "application/json"},
                timeout=30,
            )
        outcome.record("POST /api/allocations", response)

    params = st.dictionaries(
        st.sampled_from(
            ["actor", "agent", "campaign", "outcome", "kind", "since", "until", "q", "before"]
        ),
        st.text(max_size=250),
        max_size=5,
    )

    @settings(max_examples=examples, deadline=None, derandomize=True)
    @given(params=params)
    def get_audit(params):
        outcome.record("GET /api/audit", http.get(f"{web}/api/audit", params=params, timeout=30))

    post_allocations()
    accepted_posts = outcome.accepted
    get_audit()
    outcome.accepted = accepted_posts
    outcome.summary = (
        f"Hypothesis, JSON API: {outcome.requests} requests, statuses "
        f"{dict(sorted(outcome.statuses.items()))}, {accepted_posts} moves accepted"
    )
    return outcome


def fuzz_forms(web: str, username: str, *, quick: bool):
    """The htmx endpoints a browser posts to, with a real session and CSRF token."""
    from django.contrib.auth.models import Group, User

    user, _ = User.objects.get_or_create(username=username)
    user.set_password("fuzz-" + username)
    user.save()
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    http = requests.Session()
    http.get(f"{web}/accounts/login/", timeout=30)
    login = http.post(
        f"{web}/accounts/login/",
        data={
            "username": username,
            "password": "fuzz-" + username,
            "csrfmiddlewaretoken": http.cookies["csrftoken"],
        },
        headers={"Referer": f"{web}/accounts/login/"},
        timeout=30,
    )
    outcome = FuzzOutcome()
    if login.url.rstrip("/").endswith("/accounts/login"):
        outcome.problems.append("could not sign in for the form fuzzing")
        return outcome
    csrf = {"X-CSRFToken": http.cookies["csrftoken"], "HX-Request": "true"}
    field_value = st.text(max_size=120)
    form = st.dictionaries(
        st.sampled_from(
            [
                "agent_ids",
                "campaign_ids_in",
                "campaign_ids_out",
                "reason",
                "expected",
                "idempotency_key",
                "pick",
                "target",
            ]
        ),
        st.one_of(field_value, st.lists(field_value, max_size=4)),
        max_size=6,
    )
    examples = 100 if quick else 500

    @settings(max_examples=examples, deadline=None, derandomize=True)
    @given(data=form, job=st.integers(min_value=-5, max_value=10**12))
    def post_forms(data, job):
        # A form may carry any text; the server must answer 4xx, never 500.
        def send(method, path, **kw):
            return getattr(http, method)(f"{web}{path}", headers=csrf, timeout=30, **kw)

        outcome.record("POST /moves/", send("post", "/moves/", data=data))
        outcome.record("GET /moves/preview", send("get", "/moves/preview", params=data), ())
        # A retry of a failed job is a new job: it counts as an accepted move.
        outcome.record("POST /jobs/{id}/retry", send("post", f"/jobs/{abs(job)}/retry", data=data))
        outcome.record("POST /jobs/{id}/cancel", send("post", f"/jobs/{abs(job)}/cancel"), ())
        outcome.record("GET /audit/", send("get", "/audit/", params=data), ())

    post_forms()
    outcome.summary = (
        f"Hypothesis, htmx forms: {outcome.requests} requests, statuses "
        f"{dict(sorted(outcome.statuses.items()))}, {outcome.accepted} moves accepted"
    )
    return outcome


def run(ctx) -> Result:
    """The fuzz drill: every part above, then no job the server did not accept."""
    from dashboard.allocations.models import AllocationJob

    r = Result(
        "fuzz-bad-input",
        "property-based fuzzing: schemathesis from /api/openapi.json (every operation), and "
        "Hypothesis-generated bodies for POST /api/allocations and the htmx form endpoints "
        "(move preview and submit, job retry and cancel, audit filters)",
        "zero 5xx; no job created from input the server refused; every accepted move valid",
    )
    before = AllocationJob.objects.count()
    outcome = schemathesis_run(ctx.stack.web, ctx.token, quick=ctx.quick)
    r.saw.append(outcome.summary)
    r.problems.extend(outcome.problems)
    api = fuzz_api(ctx.stack.web, ctx.token, ctx.campaigns, ctx.free, quick=ctx.quick)
    forms = fuzz_forms(ctx.stack.web, "fuzz-supervisor", quick=ctx.quick)
    for part in (api, forms):
        r.saw.append(part.summary)
        r.problems.extend(part.problems)
    created = AllocationJob.objects.count() - before
    accepted = api.accepted + forms.accepted + outcome.accepted
    r.saw.append(f"jobs created: {created}; moves the server accepted (202/200): {accepted}")
    if created > accepted:
        r.problems.append(f"{created - accepted} jobs created without an accepted request")
    return r
