"""Why a plan request is refused: the allocation refusals (their status is decided there, and the
API's and the pages' handlers already read it), plus a plan that does not exist."""

from __future__ import annotations

from dashboard.allocations.errors import InvalidMove, MoveConflict, MoveForbidden, MoveRefused


class InvalidPlan(InvalidMove):
    """A field of the plan is wrong; ``fields`` names each one."""


class PlanForbidden(MoveForbidden):
    pass


class PlanConflict(MoveConflict):
    pass


class PlanNotFound(MoveRefused):
    status = 404
    code = "not_found"
