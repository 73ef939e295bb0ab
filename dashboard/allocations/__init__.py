"""Allocation jobs: a supervisor's move, queued and run in the background in batches.

Where things live (a move is what a supervisor asks for; a job is its execution):

* ``submit``    submit a move (validation, who may, queue and enqueue on commit), retry, cancel
* ``execute``   run a job batch by batch: the ICWS call, backoff, failure, success
* ``sweep``     find jobs that lost their worker or message; returns ids, the task enqueues them
* ``errors``    the refusals (``MoveRefused`` and its subclasses, each with its HTTP status)
* ``access``    who may move these agents or act on this job (``job_access``), decided once
* ``selectors`` reads: stale agents, the roster a job started from, a job by id or key
* ``explain``   a failed job's error in a supervisor's words, and whether Retry is offered
* ``revert``    undoing a succeeded move for the agents nobody moved since
* ``tasks``     the thin Celery tasks and ``enqueue_job``

Imports point one way: ``submit`` -> ``tasks`` -> ``execute``/``sweep`` -> ``selectors``,
``errors``, ``models``; nothing here imports ``submit`` except ``revert``.
"""
