"""The collector log in a long outage: one line per failure, repeats summed up, tracebacks once."""

from __future__ import annotations

import logging

import pytest

from collectors.failure_log import FailureLog


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def test_a_failure_repeated_every_second_is_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticks = Ticks()
    failures = FailureLog(logging.getLogger("test.failures"), clock=ticks, repeat_every_s=60)
    read_only = "database: cannot execute UPDATE in a read-only transaction"
    with caplog.at_level(logging.INFO, logger="test.failures"):
        for second in range(125):  # two minutes of a collector failing every second
            ticks.now = float(second)
            failures.failed("events", read_only, exc_info=None)
        failures.succeeded("events")
        failures.succeeded("events")  # a success after a success says nothing
    assert _lines(caplog) == [
        f"events: {read_only}",
        f"events: {read_only} (and 59 more failed cycles since the last report)",
        f"events: {read_only} (and 59 more failed cycles since the last report)",
        "events: succeeded again after 125 failed cycles",
    ]


def test_a_new_error_is_logged_at_once_with_its_traceback_only_the_first_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticks = Ticks()
    failures = FailureLog(logging.getLogger("test.failures"), clock=ticks)
    bug = KeyError("Jobs")
    with caplog.at_level(logging.INFO, logger="test.failures"):
        failures.failed("inventory", "KeyError: 'Jobs'", exc_info=bug)
        failures.failed("logs", "database: server closed the connection unexpectedly")
        ticks.now = 1.0
        failures.failed("inventory", "database: server closed the connection unexpectedly")
        ticks.now = 61.0
        failures.failed("inventory", "database: server closed the connection unexpectedly")
        ticks.now = 130.0
        failures.failed("inventory", "KeyError: 'Jobs'", exc_info=bug)
        failures.failed("inventory", "KeyError: 'Jobs'", exc_info=bug)
    logged = [(r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert logged == [
        ("inventory: KeyError: 'Jobs'", True),
        ("logs: database: server closed the connection unexpectedly", False),
        ("inventory: database: server closed the connection unexpectedly", False),
        ("inventory: database: server closed the connection unexpectedly", False),
        ("inventory: KeyError: 'Jobs'", True),
    ]
