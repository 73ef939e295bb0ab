"""The board's rendered columns, kept per board revision in this process.

Every open board polls each second; while the revision (roster, presence, jobs, health,
campaigns) and the filters are the same, every supervisor's board is the same HTML, so it is
rendered once (about 150 ms at 5,000 agents) and then served from here. The key holds the whole
revision, presence stamp included: a presence-only change reaches open boards as a delta
(``selectors.presence_delta``), never through here, and a page loaded after it is rendered
with it, so the cached cards' presence is never older than the revision they are served for.
A few entries, not the Django cache: an entry is over a megabyte, and the default local-memory
cache keeps 300 of them.
Entries expire after ``MAX_AGE`` seconds so the server-rendered time in state (what a browser
without JavaScript sees) is never older than that.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

ENTRIES = 4
MAX_AGE = 30.0

_lock = threading.Lock()
_entries: OrderedDict[tuple, tuple[float, str]] = OrderedDict()


def get(key: tuple) -> str | None:
    with _lock:
        entry = _entries.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > MAX_AGE:
            del _entries[key]
            return None
        _entries.move_to_end(key)
        return entry[1]


def put(key: tuple, html: str) -> None:
    with _lock:
        _entries[key] = (time.monotonic(), html)
        _entries.move_to_end(key)
        while len(_entries) > ENTRIES:
            _entries.popitem(last=False)


def clear() -> None:
    with _lock:
        _entries.clear()
