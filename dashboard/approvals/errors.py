"""Outcomes of the gate and of a decision, as refusal classes that carry their own status.

``ApprovalPending`` is not a failure, but it travels the same way a refusal does: the submit
raises it instead of returning a job, and the board and the API, which already answer every
``MoveRefused`` with ``exc.status`` and ``exc.message``, answer it 202 with the message
"Waiting for approval by a second supervisor: approval 12".
"""

from __future__ import annotations

from dashboard.allocations.errors import MoveConflict, MoveForbidden, MoveRefused


class ApprovalPending(MoveRefused):
    status = 202
    code = "approval_pending"

    def __init__(self, approval, created: bool):
        self.approval = approval
        self.created = created
        super().__init__(
            f"Waiting for approval by a second supervisor: approval {approval.pk} "
            f"({approval.needs_text})",
            {},
        )


class ApprovalNotFound(MoveRefused):
    status = 404
    code = "not_found"


class NotYourApproval(MoveForbidden):
    """The requester, a role that may not approve, or an approver out of scope."""


class ApprovalDecided(MoveConflict):
    """Already approved, rejected, expired or withdrawn: nothing left to decide."""
