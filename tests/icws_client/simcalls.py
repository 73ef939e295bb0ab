"""Read the simulator's request counters and move log (its /sim/ endpoints)."""

from __future__ import annotations

import requests


def calls(sim, method: str, fragment: str) -> int:
    """How many requests the simulator answered whose path contains ``fragment``."""
    counters = requests.get(f"{sim.base_url}/sim/calls", timeout=5).json()
    return sum(
        entry["count"]
        for entry in counters
        if entry["method"] == method and fragment in entry["path"]
    )


def moves(sim) -> list[dict]:
    return requests.get(f"{sim.base_url}/sim/moves", timeout=5).json()
