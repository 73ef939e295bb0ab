"""Shift plans: moves that run on a schedule (once or recurring) and revert at their end time.

A plan names agents (explicit ids, or every agent of a workgroup, resolved at run time), the
campaigns in and out, a local start (and optional end) wall time in an IANA time zone, and an
optional recurrence. Celery beat calls ``tasks.plans_tick_task``; each due occurrence is claimed
once (a ``PlanRun`` row unique on plan and scheduled time) and becomes an ordinary allocation job
through ``allocations.submit``. At the end time the run's move is reverted for the agents whose
roster is still what the run wrote (``allocations.revert.job_revert_plan``).

Modules by phase: ``schedule`` (wall times to instants, next runs), ``access`` (who may),
``validate``, ``services`` (create, edit, pause, resume, delete), ``run`` (the beat's claim, start
and revert), ``selectors`` (reads for pages and the API), ``views``.
"""
