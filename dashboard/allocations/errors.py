"""Why a move (or an action on a job) is not queued: one class per meaning, each with a status.

The status is decided here, once, where the refusal is made (stripe-python style): the API's
handler and the board's views both read ``exc.status`` through ``refusal_status`` instead of
keeping their own code -> status tables. ``code`` is the short name the API and tests know.
"""

from __future__ import annotations


class MoveRefused(Exception):
    """Base of every refusal. ``fields`` maps a request field to what is wrong with it."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        self.message = message
        self.fields = fields or {}
        super().__init__(message)


class InvalidMove(MoveRefused):
    """The request itself is wrong (a field, an unknown agent or campaign)."""

    status = 400
    code = "invalid"


class MoveForbidden(MoveRefused):
    """The user's role or scope does not allow it."""

    status = 403
    code = "forbidden"


class JobNotFound(MoveRefused):
    status = 404
    code = "not_found"


class MoveConflict(MoveRefused):
    """The request is fine but the state is not: a stale roster, a job in the wrong state, an
    Idempotency-Key already used for another move."""

    status = 409
    code = "conflict"


def moved_meanwhile(agent_ids: list[str], names: dict[str, str], shown: int = 10) -> str:
    """The words of a stale roster, for the refusal before the job and the job's failure after
    it alike: the agents by name (and id, which the audit and ICWS use), the first ``shown``."""
    named = [f"{names[a]} ({a})" if names.get(a) and names[a] != a else a for a in agent_ids]
    more = f" and {len(named) - shown} more" if len(named) > shown else ""
    return (
        "The roster changed since this move was prepared (moved meanwhile: "
        f"{', '.join(named[:shown])}{more})."
    )


def refusal_status(exc: MoveRefused) -> int:
    """The HTTP status for a refusal, for the API and the board alike."""
    return exc.status
