"""What a ready-for-calls answer means, in the agent's words; decided here, once.

By status first (REF 10: no errorId is on record for these answers), the server's message shown
beside it where it says more than the status.
"""

from __future__ import annotations

from dataclasses import dataclass

from icws_client import (
    IcwsBadRequest,
    IcwsConnectionError,
    IcwsError,
    IcwsForbidden,
    IcwsGone,
    IcwsTimeout,
    IcwsUnauthorized,
    IcwsUnsupportedFeature,
)

SIGN_IN_AGAIN = (
    "Your CIC session for this page has ended. Sign out and sign in again with your CIC "
    "password, then press Ready for calls."
)


@dataclass(frozen=True)
class Answer:
    ok: bool
    text: str
    sign_in_again: bool = False


def explain(exc: IcwsError | None, *, sent: bool = False) -> Answer:
    if exc is None:
        if sent:
            return Answer(True, "Sent: Dialer knows you are ready for calls from these campaigns.")
        return Answer(False, SIGN_IN_AGAIN, sign_in_again=True)
    said = (
        f" CIC said: “{exc.message}”" if exc.message and exc.message != exc.default_message else ""
    )
    if isinstance(exc, IcwsUnauthorized | IcwsGone):
        return Answer(False, SIGN_IN_AGAIN, sign_in_again=True)
    if isinstance(exc, IcwsForbidden):
        return Answer(
            False,
            "CIC refused it (403): neither you nor the station you are logged in to has a "
            "Dialer Add-on licence. Ask your CIC administrator.",
        )
    if isinstance(exc, IcwsUnsupportedFeature):
        return Answer(False, f"This CIC server cannot name campaigns in ready-for-calls: {exc}.")
    if isinstance(exc, IcwsBadRequest):
        return Answer(
            False,
            "CIC refused it (400): most likely you are not logged in to Dialer. Log in to your "
            f"campaigns in your CIC client, then press again.{said}",
        )
    if isinstance(exc, IcwsTimeout):
        return Answer(
            False,
            "CIC did not answer in time, so it may not have been sent. Press again: sending it "
            "twice does no harm.",
        )
    if isinstance(exc, IcwsConnectionError):
        return Answer(False, "CIC could not be reached. Try again in a moment.")
    status = f" (HTTP {exc.status})" if exc.status else ""
    return Answer(False, f"CIC could not take it{status}; try again in a moment.{said}")
