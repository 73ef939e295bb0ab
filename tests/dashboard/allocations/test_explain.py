"""A failed job's error in a supervisor's words, and whether Retry is offered."""

from __future__ import annotations

import pytest

from dashboard.allocations.explain import explain_job
from dashboard.allocations.models import AllocationJob

Kind = AllocationJob.ErrorKind


def failed(**fields) -> AllocationJob:
    return AllocationJob(status=AllocationJob.Status.FAILED, attempts=3, **fields)


@pytest.mark.parametrize(
    ("fields", "headline", "retryable"),
    [
        (
            {
                "error_kind": Kind.ICWS,
                "error_status": 403,
                "error_id": "error.request.dialer.noLicense",
            },
            "No Dialer Add-on licence is available",
            True,
        ),
        (
            {"error_kind": Kind.ICWS, "error_status": 400},
            "ICWS refused the move as invalid.",
            False,
        ),
        ({"error_kind": Kind.ICWS, "error_status": 403}, "lack a permission or licence", False),
        ({"error_kind": Kind.ICWS, "error_status": 410}, "session ended", False),
        (
            {"error_kind": Kind.RETRIES_EXHAUSTED, "error_status": 503},
            "not accepting requests right now",
            True,
        ),
        (
            {"error_kind": Kind.RETRIES_EXHAUSTED, "error_status": None},
            "could not be reached",
            True,
        ),
        ({"error_kind": Kind.CONFLICT}, "Someone else moved these agents", False),
        ({"error_kind": Kind.INTERNAL}, "internal error", True),
    ],
)
def test_explanations(fields, headline, retryable):
    explanation = explain_job(failed(error_message="raw text from ICWS", **fields))
    assert headline in explanation.headline
    assert explanation.retryable is retryable


def test_gave_up_says_how_many_times():
    explanation = explain_job(failed(error_kind=Kind.RETRIES_EXHAUSTED, error_status=500))
    assert "tried 3 times and gave up" in explanation.headline


def test_the_detail_keeps_what_icws_said():
    explanation = explain_job(
        failed(error_kind=Kind.ICWS, error_status=400, error_id="error.x", error_message="bad id")
    )
    assert explanation.detail == "HTTP 400 · error.x: bad id"


def test_jobs_that_did_not_fail_need_no_explanation():
    assert explain_job(AllocationJob(status=AllocationJob.Status.SUCCEEDED)) is None


def test_a_server_below_dialer_feature_7_says_what_to_upgrade_and_offers_no_retry():
    # Regression: this used to read "The CIC server could not be reached in time" with Retry,
    # because the error has no HTTP status and transience was guessed from the status.
    explanation = explain_job(
        failed(
            error_kind=Kind.ICWS,
            error_class="IcwsUnsupportedFeature",
            error_transient=False,
            error_message="allocate-agents needs ICWS feature dialer 7; the server has dialer 6",
        )
    )
    assert "could not be reached" not in explanation.headline
    assert "upgrade" in explanation.headline
    assert "dialer feature version 7" in explanation.headline
    assert explanation.retryable is False
    assert "the server has dialer 6" in explanation.detail


def test_a_plain_403_names_the_dialer_licence_without_an_error_id():
    explanation = explain_job(failed(error_kind=Kind.ICWS, error_status=403))
    assert "Dialer Add-on licence" in explanation.headline


def test_a_recorded_401_error_code_is_explained():
    explanation = explain_job(failed(error_kind=Kind.ICWS, error_status=401, error_code=1))
    assert "carried no session" in explanation.headline


def test_a_connection_error_is_unreachable_and_retryable_from_its_stored_flag():
    explanation = explain_job(
        failed(error_kind=Kind.ICWS, error_class="IcwsConnectionError", error_transient=True)
    )
    assert explanation.headline == "The CIC server could not be reached in time."
    assert explanation.retryable is True
