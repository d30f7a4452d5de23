"""Stopping the collectors: SIGTERM's handler (`request_stop`) ends `run_forever` at once when the
event consumer is only waiting in its long poll, and within STOP_GRACE_S when a cycle is busy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.context import CollectorContext, CycleResult
from collectors.registry import CollectorJob, job
from collectors.runner import STOP_GRACE_S, CollectorRunner
from dashapp.models import CollectorStatus
from tests.collectors.conftest import client

_released = threading.Event()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    _released.clear()
    yield _released
    _released.set()


def _status(sessions: sessionmaker[Session]) -> dict[str, CollectorStatus]:
    with sessions() as s:
        return {row.name: row for row in s.scalars(select(CollectorStatus))}


def _wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what} within {timeout_s} s"
        time.sleep(0.05)


def _lead(runner: CollectorRunner) -> threading.Thread:
    thread = threading.Thread(target=runner.run_forever, name="run_forever", daemon=True)
    thread.start()
    return thread


def _stop(runner: CollectorRunner, thread: threading.Thread) -> float:
    began = time.monotonic()
    runner.request_stop()
    thread.join(timeout=30)
    assert not thread.is_alive(), "run_forever did not return within 30 s of the stop"
    return time.monotonic() - began


def _finishing(ctx: CollectorContext) -> CycleResult:
    """Still writing when the stop comes, done soon after."""
    ctx.stop.wait(30)
    time.sleep(0.3)
    return CycleResult(items=7)


def _stuck(ctx: CollectorContext) -> CycleResult:
    """Inside a call that does not come back (a hung connection)."""
    _released.wait(60)
    return CycleResult()


def _job(name: str, run: Callable[[CollectorContext], CycleResult]) -> CollectorJob:
    return CollectorJob(name, run, lambda s: 3600, "test")


def test_a_stop_does_not_wait_out_the_event_consumers_long_poll(
    make_runner: Callable[..., CollectorRunner], sessions: sessionmaker[Session]
) -> None:
    client("sqs").create_queue(QueueName="smd-collector-events")  # empty: it waits 5 s a poll
    runner = make_runner([job("events")])
    thread = _lead(runner)
    _wait_for(lambda: "events" in _status(sessions), 30, "the event consumer starts")
    time.sleep(0.5)  # into its first long poll
    took = _stop(runner, thread)
    assert took < 0.5, f"the stop waited {took:.1f} s for a long poll"
    # The abandoned poll still ends in its own time (a process would have exited by now).
    _wait_for(lambda: _status(sessions)["events"].last_outcome is not None, 10, "the poll ends")


def test_a_busy_cycle_gets_the_grace_and_a_stuck_one_is_abandoned(
    make_runner: Callable[..., CollectorRunner],
    sessions: sessionmaker[Session],
    release: threading.Event,
) -> None:
    runner = make_runner([_job("finishing", _finishing), _job("stuck", _stuck)])
    thread = _lead(runner)
    _wait_for(lambda: set(_status(sessions)) == {"finishing", "stuck"}, 30, "both start")
    took = _stop(runner, thread)
    status = _status(sessions)
    assert took < STOP_GRACE_S + 0.5, f"the stop took {took:.1f} s"
    assert status["finishing"].last_outcome == "ok" and status["finishing"].last_items == 7
    assert status["stuck"].last_outcome is None  # abandoned: the next start does its work
    release.set()
    _wait_for(lambda: _status(sessions)["stuck"].last_outcome is not None, 10, "stuck ends")


def test_a_stop_request_waits_on_no_lock_the_interrupted_thread_may_hold(
    make_runner: Callable[..., CollectorRunner], sessions: sessionmaker[Session]
) -> None:
    """SIGTERM's handler runs on the main thread, between two of its bytecodes: there, the
    scheduler may be inside its thread pool's submit, holding the pool's non-reentrant lock
    while a worker thread starts. A handler that shut the scheduler down waited on that
    lock forever (a collector SIGTERMed just as it took the lead never exited). Here the
    stop is requested by the thread holding that lock, as the handler would be."""
    runner = make_runner([_job("finishing", _finishing)])
    thread = _lead(runner)
    _wait_for(lambda: "finishing" in _status(sessions), 30, "the cycle starts")
    pool = runner._scheduler._executors["default"]._pool  # the lock the main thread held
    asked = threading.Thread(target=lambda: _with(pool._shutdown_lock, runner.request_stop))
    asked.start()
    asked.join(timeout=5)
    assert not asked.is_alive(), "request_stop waited on a lock its own thread held"
    thread.join(timeout=30)
    assert not thread.is_alive(), "run_forever ended once the lock was free"


def _with(lock: Any, call: Callable[[], None]) -> None:
    with lock:
        call()
