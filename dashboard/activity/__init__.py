"""What supervisors are doing on the board right now, and when each last had it open.

Both live in small tables, not the Django cache: the cache is per process unless CACHES names
a shared one (settings has none), and every gunicorn worker must see every supervisor's
activity. A row is a heartbeat with an expiry, so a closed tab disappears on its own.
"""
