"""Drill: kill -9 the ICWS listener; presence turns stale (and says since when); moves go on; a
restarted listener makes presence fresh again, with the change made while it was down."""

from __future__ import annotations

import time

import requests

from bench.drills.context import DrillContext, wait_until
from bench.drills.invariants import Result


def run(ctx: DrillContext) -> Result:
    from django.conf import settings

    from dashboard.directory.models import Agent
    from dashboard.presence.selectors import listener_health

    r = Result(
        "listener-kill",
        "kill -9 the ICWS listener; change an agent's status on the simulator and run 5 moves "
        "while it is down; restart it",
        "presence reads stale (since the last heartbeat) within LISTENER_STALE_SECONDS plus a "
        "heartbeat; the moves succeed; after the restart presence is live again and the row "
        "shows the change made while the listener was down",
    )
    wait_until(lambda: listener_health().ok, 30)
    if not listener_health().ok:
        r.problems.append(f"the listener was not live before the drill: {listener_health()}")
        return r
    agent = ctx.agents(1)[0]
    ctx.stack.kill_listener()
    killed = time.monotonic()
    limit = settings.LISTENER_STALE_SECONDS + 4
    wait_until(lambda: listener_health().status == "stale", limit + 5)
    health = listener_health()
    if health.status != "stale":
        r.problems.append(f"presence not stale {limit + 5:.0f} s after the kill: {health}")
    else:
        r.saw.append(
            f"stale {time.monotonic() - killed:.1f} s after the kill, since "
            f"{health.since:%H:%M:%S}: {health.last_error}"
        )
    current = Agent.objects.get(id=agent).status_id
    status = "In a Meeting" if current != "In a Meeting" else "At Lunch"
    body = {"userId": agent, "statusId": status}
    requests.post(f"{ctx.stack.sim}/sim/user-status", json=body, timeout=10).raise_for_status()
    time.sleep(1)
    if Agent.objects.get(id=agent).status_id == status:
        r.problems.append("the row changed with no listener running (who wrote it?)")
    ctx.stack.start_workers(1)
    seq = ctx.last_seq()
    ids = ctx.submit(ctx.agents(5))
    ctx.check(r, ids, seq, timeout=120)
    ctx.stack.stop_workers()
    restarted = time.monotonic()
    ctx.stack.start_listener()
    wait_until(lambda: Agent.objects.get(id=agent).status_id == status, 30)
    if Agent.objects.get(id=agent).status_id != status:
        r.problems.append("the restarted listener did not write the change made while it was down")
    wait_until(lambda: listener_health().ok, 30)
    if listener_health().ok:
        r.saw.append(f"live again {time.monotonic() - restarted:.1f} s after the restart")
    else:
        r.problems.append(f"not live 30 s after the restart: {listener_health()}")
    return r
