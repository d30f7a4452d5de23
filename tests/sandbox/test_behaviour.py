"""How the sandbox plans a Glue run: the failure odds a job spec asks for are what it gets."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

from sandbox import behaviour
from sandbox.catalog import JOBS

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SPEC = replace(JOBS[0], errors=("boom",), timeout_rate=0.0)


def _outcomes(failure_rate: float, boost: float = 0.0, n: int = 400) -> list[str]:
    rng = random.Random(7)
    spec = replace(SPEC, failure_rate=failure_rate)
    return [behaviour.plan_run(spec, START, rng, failure_boost=boost).outcome for _ in range(n)]


def test_a_job_that_always_fails_always_fails() -> None:
    # The retry tests rely on it: every attempt of such a job must fail.
    assert set(_outcomes(1.0)) == {"FAILED"}
    assert set(_outcomes(1.0, boost=0.5)) == {"FAILED"}


def test_an_incident_raises_the_odds_to_at_most_90_percent() -> None:
    assert set(_outcomes(0.0)) == {"SUCCEEDED"}
    boosted = _outcomes(0.05, boost=5.0)
    share = boosted.count("FAILED") / len(boosted)
    assert 0.8 < share < 0.97
