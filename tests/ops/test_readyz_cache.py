"""/readyz runs its checks in one shared background probe, so slow checks never hold the
caller past READYZ_TIMEOUT and concurrent callers do not each start one."""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest

from dashboard.ops import readiness_cache, services


@pytest.fixture(autouse=True)
def empty_cache():
    readiness_cache._results.clear()
    yield
    readiness_cache._results.clear()


def test_a_hanging_check_does_not_hold_callers_and_is_run_once(settings, db):
    settings.READYZ_TIMEOUT = 0.3
    release = threading.Event()
    calls = []

    def hanging_check():
        calls.append(1)
        release.wait(10)
        return services.Readiness(checks={"icws": {"ok": True, "ms": 1}})

    with mock.patch.object(services, "readiness_check", side_effect=hanging_check):
        started = time.monotonic()
        answers = []
        callers = [
            threading.Thread(target=lambda: answers.append(readiness_cache.readiness()))
            for _ in range(2)
        ]
        for t in callers:
            t.start()
        for t in callers:
            t.join()
        waited = time.monotonic() - started
        assert waited < 1.5, "callers waited at most about READYZ_TIMEOUT"
        assert [a.ok for a in answers] == [False, False]
        assert answers[0].failed == ["probe"]
        assert len(calls) == 1, "the second caller shared the probe in flight"
        release.set()
        for _ in range(50):
            if readiness_cache._results:
                break
            time.sleep(0.05)
        assert readiness_cache.readiness().ok, "the finished probe's answer is served"
        assert len(calls) == 1, "and cached"
