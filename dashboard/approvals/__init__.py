"""Four-eyes approval (issue 18): moves and plans that wait for a second supervisor or an admin.

A move above ``APPROVAL_THRESHOLD_AGENTS`` agents, a move of agents outside the requester's
workgroups, or a plan (each kind switched on in ``APPROVAL_REQUIRED_FOR``) is not queued: it
becomes a pending ``Approval``. Another supervisor or an admin (never the requester, and only one
whose own scope covers every agent) sees the move re-previewed against the roster of now, and
approves or rejects it with a reason. An approved move is submitted through the ordinary
allocations submit, as the requester's job, with the approver's name on its audit rows. A
pending approval nobody decides expires after ``APPROVAL_EXPIRES_MINUTES`` (beat).

Phases, one module each: ``gate`` (does this need approval, called by the submit), ``request``
(create a pending approval), ``decide`` (approve, reject, expire), ``review`` (the re-preview
and what changed), ``selectors`` (reads), ``tasks`` (beat), and the pages and API.
"""
