"""allocate-agents round trips through IcwsClient vs a bare ``requests`` call (the floor).

Usage: .venv/bin/python bench/client_roundtrip.py [--calls 500]
Prints calls/s and p50/p95 latency for both, and the client/bare ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._sim import percentile, simulator_process
from icws_client import IcwsClient

USER, PASSWORD = "svc_dashboard", "svc-dashboard-demo"


def measure(call, n: int) -> list[float]:
    for _ in range(min(20, n)):  # warm up connections and caches
        call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def report(name: str, times: list[float]) -> dict:
    total = sum(times)
    row = {
        "name": name,
        "rate": len(times) / total,
        "p50": percentile(times, 50) * 1000,
        "p95": percentile(times, 95) * 1000,
    }
    print(
        f"{name:<28} {row['rate']:8.0f} calls/s   p50 {row['p50']:6.2f} ms   "
        f"p95 {row['p95']:6.2f} ms"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("ICWS_USER", USER)
    os.environ.setdefault("ICWS_PASSWORD", PASSWORD)
    with simulator_process("--apply-delay", "0.01") as base:
        state = requests.get(f"{base}/sim/state", timeout=5).json()
        agent = state["agents"][0]["id"]
        c1, c2 = state["campaigns"][0]["id"], state["campaigns"][1]["id"]

        client = IcwsClient(base, USER, PASSWORD)
        conn = client.connect()
        flip = [0]

        def via_client():
            flip[0] ^= 1
            ins, outs = ([c1], [c2]) if flip[0] else ([c2], [c1])
            client.allocate_agents([agent], campaign_ids_in=ins, campaign_ids_out=outs)

        session = requests.Session()
        url = f"{base}/icws/{conn.session_id}/dialer/allocate-agents"
        headers = {
            "Accept-Language": "en-us",
            "ININ-ICWS-CSRF-Token": conn.csrf_token,
            "Cookie": client._session.cookie,
            "Content-Type": "application/json",
        }

        def bare():
            flip[0] ^= 1
            ins, outs = ([c1], [c2]) if flip[0] else ([c2], [c1])
            r = session.post(
                url,
                json={"agentIds": [agent], "campaignIdsIn": ins, "campaignIdsOut": outs},
                headers=headers,
                timeout=10,
            )
            assert r.status_code == 202, r.text

        print(
            f"# allocate-agents round trip, {args.calls} calls each, "
            f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
        )
        bare_row = report("bare requests (floor)", measure(bare, args.calls))
        client_row = report("IcwsClient.allocate_agents", measure(via_client, args.calls))
        print(
            f"ratio client/bare: throughput {client_row['rate'] / bare_row['rate']:.2f}, "
            f"p50 latency {client_row['p50'] / bare_row['p50']:.2f}x"
        )
        client.close()
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "client_roundtrip.json").write_text(
        json.dumps({"calls": args.calls, "bare": bare_row, "client": client_row}, indent=2)
    )


if __name__ == "__main__":
    main()
