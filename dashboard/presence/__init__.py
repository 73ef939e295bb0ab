"""Live presence from one long-lived ICWS listener (issue 13 item 3).

``listener.py`` keeps the service session alive by reading its message queue (server-sent events
where messaging >= 2, short polling otherwise), subscribes to user statuses and sessions-users for
the directory's agents and writes presence and "has a live client" to ``directory.Agent`` through
``writes.py`` (one UPDATE per message). ``models.ListenerState`` is its one health row;
``selectors.listener_health()`` reads it for ``/readyz``, ``/metrics`` and the board's top bar
and says when presence is stale and since when. ``manage.py icws_listen`` runs it.
"""
