"""Django's PostgreSQL backend with a health check that needs no round trip when it can tell.

``CONN_HEALTH_CHECKS`` makes Django send ``SELECT 1`` before the first query of every request
on a reused connection. For a POST that was one round trip in ten, and under load each round
trip waits for PostgreSQL to be scheduled: 8.7% of a gunicorn worker's samples during
``bench/api_post.py``'s flood were that check. A server that restarts, or kills the backend,
sends a FATAL message and closes its end of the socket, so on an idle connection a socket with
nothing to read answers the question locally (``poll`` with no wait). Anything readable, a
connection not idle, or one unused for longer than ``QUIET_TRUST_SECONDS`` (a firewall may drop
an idle connection without a word) gets Django's ``SELECT 1`` as before.
"""

from __future__ import annotations

import contextlib
import select
import time

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

# psycopg splits a query at its placeholders on every execute unless it is at most 4,096
# bytes with at most 50 parameters (its cache of split queries, ``psycopg._queries``, takes
# only those). A round trip of ``allocations.together`` joins statements whose SQL is the same
# from call to call (``kept``), and most go past one limit or the other: eight audit INSERTs
# joined (6.4 KB, 280 parameters) took 0.96 ms to split each time, 0.3 us from the cache.
# Larger limits keep them in that cache (128 queries, least recently used first out); psycopg
# reads both at each call. Set here, in the backend every PostgreSQL connection loads.
with contextlib.suppress(ImportError, AttributeError):
    from psycopg import _queries

    _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 32 * 1024)
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 500)

# The poll is trusted only this long after the connection was last checked or opened; longer
# idle connections are asked over the wire.
QUIET_TRUST_SECONDS = 5.0


class DatabaseWrapper(base.DatabaseWrapper):
    _last_contact = 0.0

    def connect(self):
        super().connect()
        self._last_contact = time.monotonic()

    def close_if_health_check_failed(self):
        due = (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
        )
        if not due:
            return super().close_if_health_check_failed()
        now = time.monotonic()
        if now - self._last_contact <= QUIET_TRUST_SECONDS and self._socket_quiet():
            self.health_check_done = True
        else:
            super().close_if_health_check_failed()
        # Either way the connection answered (or is a new one) now.
        self._last_contact = now

    def _socket_quiet(self) -> bool:
        """Idle, not broken, and nothing from the server waiting to be read."""
        conn = self.connection
        try:
            if conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
                return False
            poller = select.poll()
            poller.register(conn.pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
            return not poller.poll(0)
        except Exception:  # any doubt: ask over the wire
            return False
