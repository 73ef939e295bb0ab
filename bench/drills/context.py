"""What the drills share: the running stack, an API session, the agents not used yet."""

from __future__ import annotations

import time

import requests

from bench.drills.invariants import Result, check_jobs
from bench.drills.stack import Stack


class DrillContext:
    """The stack, a supervisor's API session, and a pool of agents each drill takes from, so no
    two drills move the same agent (their move-log checks would see each other's moves)."""

    def __init__(self, stack: Stack, quick: bool):
        from dashboard.directory.models import Agent, Campaign
        from dashboard.directory.selectors import roster_of

        self.stack = stack
        self.quick = quick
        self.session = requests.Session()
        self.token = make_token("drill-supervisor")
        self.session.headers["Authorization"] = f"Token {self.token}"
        self.campaigns = [
            c for c in Campaign.objects.order_by("id").values_list("id", flat=True) if c
        ]
        self.roster = roster_of(Agent.objects.values_list("id", flat=True))
        self.free = sorted(self.roster)  # agents not used by a drill yet

    def agents(self, n: int) -> list[str]:
        taken, self.free = self.free[:n], self.free[n:]
        if len(taken) < n:
            raise RuntimeError("out of agents for drills")
        return taken

    def single_campaign_agents(self, n: int) -> list[str]:
        """``n`` unused agents that are each in exactly one campaign."""
        picked: list[str] = []
        while len(picked) < n:
            picked += [a for a in self.agents(n) if len(self.roster[a]) == 1]
        return picked[:n]

    def move(self, agent: str) -> tuple[int, requests.Response]:
        """Move ``agent`` into a campaign it is not in; returns (job id or 0, response)."""
        target = next(c for c in self.campaigns if c not in self.roster[agent])
        r = self.session.post(
            f"{self.stack.web}/api/allocations",
            json={"agent_ids": [agent], "campaign_ids_in": [target], "campaign_ids_out": []},
            timeout=30,
        )
        return (r.json()["id"] if r.status_code == 202 else 0), r

    def submit(self, agents: list[str]) -> list[int]:
        ids = []
        for agent in agents:
            job_id, r = self.move(agent)
            if not job_id:
                raise RuntimeError(f"submit refused: {r.status_code} {r.text[:200]}")
            ids.append(job_id)
        return ids

    def check(self, result: Result, job_ids: list[int], since_seq: int, **kwargs) -> None:
        check_jobs(self, result, job_ids, since_seq, **kwargs)

    def moves_since(self, seq: int) -> list[dict]:
        return [m for m in self.stack.sim_moves() if m["seq"] > seq]

    def last_seq(self) -> int:
        moves = self.stack.sim_moves()
        return moves[-1]["seq"] if moves else 0


def make_token(username: str) -> str:
    """A supervisor ``username`` (created if missing) and an API token for it."""
    from django.contrib.auth.models import Group, User

    from dashboard.accounts.models import ApiToken

    user, _ = User.objects.get_or_create(username=username)
    user.set_password("drills-" + username)  # revokes its old tokens: the one below is new
    user.save()
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    key = f"drill-{username}-" + "k" * 32
    ApiToken.objects.get_or_create(user=user, key_hash=ApiToken.hash(key), prefix=key[:8])
    return key


def count(ids: list[int], status: str) -> int:
    from dashboard.allocations.models import AllocationJob

    return AllocationJob.objects.filter(pk__in=ids, status=status).count()


def wait_until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.1)
