"""Drill: the access findings of issue 17 against the real gunicorn, over HTTP.

Login throttling cannot be skipped with ``X-Forwarded-For`` (gunicorn's peer is no trusted
proxy, so the header is the client's own claim), a lockout holds whatever header is added, and a
supervisor scoped to one workgroup cannot cancel another user's job outside it.
"""

from __future__ import annotations

import random

import requests

from bench.drills.context import DrillContext, make_token
from bench.drills.invariants import Result


def run(ctx: DrillContext) -> Result:
    r = Result(
        "security-xff-and-scope",
        "40 wrong passwords for one user, each with a random X-Forwarded-For, then the right "
        "one (and again with another header); a supervisor scoped to one workgroup posts "
        "cancel for another user's queued job of agents outside it (API and board)",
        "the right password is refused with 429 (the header is not believed); the cancel is "
        "refused (403/404) and the job stays queued",
    )
    _xff(ctx, r)
    _scoped_cancel(ctx, r)
    return r


def _login(web: str, username: str, password: str, forwarded: str) -> int:
    http = requests.Session()
    http.get(f"{web}/accounts/login/", timeout=30)
    response = http.post(
        f"{web}/accounts/login/",
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": http.cookies.get("csrftoken", ""),
        },
        headers={"X-Forwarded-For": forwarded, "Referer": f"{web}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    return response.status_code


def _random_ip() -> str:
    return ".".join(str(random.randint(1, 254)) for _ in range(4))


def _xff(ctx: DrillContext, r: Result) -> None:
    make_token("xff-victim")  # a supervisor with the password "drills-xff-victim"
    web = ctx.stack.web
    wrong = [_login(web, "xff-victim", "not-it", _random_ip()) for _ in range(40)]
    right = _login(web, "xff-victim", "drills-xff-victim", _random_ip())
    again = _login(web, "xff-victim", "drills-xff-victim", "10.0.0.1, " + _random_ip())
    r.saw.append(
        f"40 wrong passwords with random X-Forwarded-For answered {sorted(set(wrong))}; "
        f"then the right one {right}, and with another header {again}"
    )
    if right != 429 or again != 429:
        r.problems.append(f"the right password after 40 failures got {right}/{again}, not 429")


def _scoped_cancel(ctx: DrillContext, r: Result) -> None:
    from django.contrib.auth.models import User

    from dashboard.accounts.models import SupervisorScope
    from dashboard.allocations.models import AllocationJob
    from dashboard.directory.models import Agent, Workgroup

    workgroups = list(Workgroup.objects.order_by("id")[:2])
    if len(workgroups) < 2:
        r.problems.append("the simulator seed has fewer than two workgroups")
        return
    inside, outside = workgroups
    agent = Agent.objects.filter(workgroups=outside).exclude(workgroups=inside).first()
    if agent is None:
        r.problems.append(f"no agent only in {outside.id}")
        return
    key = make_token("scoped-supervisor")
    scope, _ = SupervisorScope.objects.get_or_create(
        user=User.objects.get(username="scoped-supervisor")
    )
    scope.workgroups.set([inside])
    owner = User.objects.get(username="drill-supervisor")
    job = AllocationJob.objects.create(
        requested_by=owner, agent_ids=[agent.id], campaign_ids_in=[ctx.campaigns[0]]
    )  # queued, and no worker runs while this drill does
    http = requests.Session()
    http.headers["Authorization"] = f"Token {key}"
    api = http.post(f"{ctx.stack.web}/api/allocations/{job.pk}/cancel", timeout=30).status_code
    job.refresh_from_db()
    r.saw.append(
        f"scoped supervisor (workgroup {inside.id}) cancelling job {job.pk} of {agent.id} "
        f"({outside.id}) through the API: {api}; job {job.status}"
    )
    if api not in (403, 404) or job.status != "queued":
        r.problems.append(f"out-of-scope cancel answered {api}, job now {job.status}")
    AllocationJob.objects.filter(pk=job.pk).update(status="cancelled")  # leave nothing queued
