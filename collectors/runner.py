"""Running the collector jobs: once, or forever under a leader lock with a hot standby.

Forever: take the leader lock, or wait for it (polling every second, database
and AWS clients warm); as leader, run every job on its interval in an APScheduler
3 BlockingScheduler and check the lock every two seconds; losing it (the database
connection dropped) stops collecting at once. One job failing never stops the
others; each cycle's outcome goes to collector_status.

On SIGTERM a cycle gets STOP_GRACE_S to finish, and the event consumer none while it
only waits in a long poll (up to 5 s). A cycle still running then is abandoned, as if
the process had been killed: its transaction rolls back, an SQS message it had not
deleted comes back, and the next cycle does its work again. The process then exits
with `lifeline.exit_now`: concurrent.futures would join that cycle's thread at exit.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from collectors import status
from collectors.context import CollectorContext, CycleResult, describe
from collectors.failure_log import FailureLog
from collectors.leader import LeaderLock, LostLeadership, lock_for
from collectors.registry import BULK, JOBS, CollectorJob
from dashapp.aws.clients import AwsClients
from dashapp.clock import Clock, SystemClock
from dashapp.config import Settings
from dashapp.db import (
    current_revision,
    db_error_line,
    head_revision,
    make_engine,
    make_session_factory,
)

log = logging.getLogger("collectors")
LOCK_CHECK_S = 2.0
STANDBY_POLL_S = 1.0
STOP_GRACE_S = 1.0
LOST_LOCK_GRACE_S = 15.0
#: GIL time slice while collecting (Python's default is 5 ms; see run_forever).
POLLER_SWITCH_INTERVAL_S = 0.001


class PhasedInterval(IntervalTrigger):
    """Cycles on the grid start_date + k x interval (a job's phase), an interval apart at
    least: after the first cycle, which runs at once, the next falls on the grid."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> Any:
        if previous_fire_time is None:
            return super().get_next_fire_time(None, now)
        return super().get_next_fire_time(None, max(now, previous_fire_time + self.interval))


class CollectorRunner:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        jobs: Sequence[CollectorJob] = JOBS,
        sessions: sessionmaker[Session] | None = None,
        group: str = BULK,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.jobs = list(jobs)
        self.group = group  # whose leader lock it takes (registry.GROUPS)
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        self.engine = make_engine(settings.database_url, application_name=self.application_name)
        self.sessions = sessions or make_session_factory(self.engine)
        self.stop = threading.Event()
        self._stop_requested_at: float | None = None
        # Each job has its own clients, so its API-call counts are its own.
        self.contexts = {
            j.name: CollectorContext(
                name=j.name,
                settings=settings,
                sessions=self.sessions,
                aws=AwsClients(settings),
                clock=self.clock,
            )
            for j in self.jobs
        }
        self._running: set[str] = set()
        self._running_lock = threading.Lock()
        self._scheduler: BlockingScheduler | None = None
        self.failures = FailureLog(log)
        self._fence: LeaderLock | None = None  # set while running under a leader lock
        event.listen(self.sessions, "before_commit", self._check_fence)

    @property
    def application_name(self) -> str:
        """How its database sessions are named: by group, so that an operator (and the
        fault tests) can tell the bulk and the live collectors' sessions apart."""
        group = "" if self.group == BULK else f"-{self.group}"
        return f"smd-collectors{group} {self.identity}"

    # --- one cycle ------------------------------------------------------------------------------
    def run_job(self, job: CollectorJob) -> str:
        """Run one cycle of `job` and record it; returns ok | partial | failed."""
        with self._running_lock:
            self._running.add(job.name)
        try:
            return self._run_and_record(job)
        finally:  # only now: a stop's grace covers recording the outcome too
            with self._running_lock:
                self._running.discard(job.name)

    def _run_and_record(self, job: CollectorJob) -> str:
        ctx = self.contexts[job.name]
        started = self.clock.now()
        ctx.aws.counter.reset()
        outcome, error, result = "ok", None, CycleResult()
        outcome_logged, failure = False, None
        try:
            status.record_start(
                self.sessions,
                job.name,
                interval_s=job.interval(self.settings),
                leader=self.identity,
                at=started,
            )
            result = job.run(ctx)
            if result.failures:
                outcome = "partial"
                error = f"{len(result.failures)} failed: " + "; ".join(result.failures[:20])
        except Exception as e:  # noqa: BLE001 - one collector failing never stops the others
            outcome, error = "failed", describe(e)
            if ctx.stop.is_set():
                log.info("collector %s interrupted while stopping: %s", job.name, error)
                outcome_logged = True
            # The database's own answer says it all; anything else may be a bug: its traceback.
            failure = None if isinstance(e, SQLAlchemyError | LostLeadership) else e
        status_error = None
        try:
            status.record_end(
                self.sessions,
                job.name,
                started_at=started,
                ended_at=self.clock.now(),
                outcome=outcome,
                error=error,
                api_calls=ctx.aws.counter.snapshot(),
                items=result.items,
                lag_s=result.lag_s,
            )
        except (SQLAlchemyError, LostLeadership) as e:
            status_error = describe(e)
        except Exception as e:
            log.exception("could not record the status of %s", job.name)
            status_error = describe(e)
        if outcome == "ok" and status_error is None:
            self.failures.succeeded(job.name)
        elif not outcome_logged:
            line = failure_line(error, status_error)
            self.failures.failed(job.name, line, exc_info=failure)
        return outcome

    def run_once(self) -> int:
        """Every job once, in registry order; 0 only when every one fully succeeded."""
        self.check_schema()
        outcomes = {}
        for job in self.jobs:
            self.contexts[job.name].once = True
            outcomes[job.name] = self.run_job(job)
        for name, outcome in outcomes.items():
            log.info("%-11s %s", name, outcome)
        return 0 if all(o == "ok" for o in outcomes.values()) else 1

    # --- forever --------------------------------------------------------------------------------
    def run_forever(self, lock: LeaderLock | None = None) -> int:
        self.check_schema()
        lock = lock or lock_for(self.engine, self.group)
        self._fence = lock
        finished = threading.Event()
        stopper = threading.Thread(
            target=self._stop_when_asked, args=(finished,), name="collectors-stop", daemon=True
        )
        stopper.start()
        # A short cycle waits for the GIL each time a call returns while others parse
        # thousands of answers beside it: with Python's 5 ms slices the 1-second pollers
        # overran 1 s beside glue_runs and metrics (bench/collectors.py at 5,000 jobs).
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(POLLER_SWITCH_INTERVAL_S)
        try:
            return self._lead_or_wait(lock)
        finally:
            sys.setswitchinterval(switch_interval)
            finished.set()

    def _lead_or_wait(self, lock: LeaderLock) -> int:
        announced = ""  # what the log last said about waiting: each state is told once
        while not self.stop.is_set():
            try:
                acquired = lock.try_acquire()
            except SQLAlchemyError as e:
                # Down, restarting or failing over: nobody can lead now. Wait, never exit.
                acquired = False
                if announced != "unreachable":
                    log.warning(
                        "database unreachable (%s); %s tries again every %.0f s",
                        db_error_line(e),
                        self.identity,
                        STANDBY_POLL_S,
                    )
                    announced = "unreachable"
            if acquired:
                log.info("%s is the active collector", self.identity)
                announced = ""
                for ctx in self.contexts.values():
                    ctx.stop.clear()
                self._lead(lock)
                if not self.stop.is_set():
                    log.warning("lost the leader lock; back to standby")
            else:
                if not announced:
                    log.info("another collector is active; %s waits as hot standby", self.identity)
                    announced = "standby"
                self.stop.wait(STANDBY_POLL_S)
        lock.release()
        # The process exits now; what a cycle abandoned at the stop still writes is only
        # its status, as when run_forever ran in a thread of its own.
        self._fence = None
        return 0

    def _check_fence(self, session: Session) -> None:
        """Every commit of a cycle first checks the lock is still ours: after a server
        restart the old leader's writers must not go on beside the new leader."""
        lock = self._fence
        if lock is not None and not lock.held_as_seen_by(session.connection()):
            raise LostLeadership(
                f"{self.identity} no longer holds the leader lock (its database session "
                "ended); it writes nothing until it leads again"
            )

    def _lead(self, lock: LeaderLock) -> None:
        scheduler = BlockingScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=len(self.jobs) + 2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        now = self.clock.now()
        for job in self.jobs:
            interval = job.interval(self.settings)
            scheduler.add_job(
                self.run_job,
                PhasedInterval(
                    seconds=interval,
                    start_date=now + timedelta(seconds=interval * job.phase),
                    timezone=UTC,
                ),
                args=[job],
                id=job.name,
                name=job.name,
                next_run_time=now,
            )

        def check() -> None:
            if self.stop.is_set() or not lock.still_held():
                for ctx in self.contexts.values():
                    ctx.stop.set()
                scheduler.shutdown(wait=False)

        scheduler.add_job(check, "interval", seconds=LOCK_CHECK_S, id="leader-check")
        self._scheduler = scheduler
        if not self.stop.is_set():
            scheduler.start()
        self._wait_for_running()

    def request_stop(self) -> None:
        """Safe in a signal handler: it only sets events. The handler interrupts the main
        thread anywhere, even inside the scheduler's thread pool holding its non-reentrant
        lock; shutting the scheduler down there would wait on that lock forever. The
        stopper thread (`_stop_when_asked`) does it."""
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()
        self.stop.set()
        for ctx in self.contexts.values():
            ctx.stop.set()

    def _stop_when_asked(self, finished: threading.Event) -> None:
        """Shut the leading scheduler down once a stop is asked, until run_forever ends (a
        scheduler still starting is caught on the next look)."""
        self.stop.wait()
        while not finished.wait(0.02):
            scheduler = self._scheduler
            if scheduler is not None and scheduler.running:
                scheduler.shutdown(wait=False)

    def _wait_for_running(self) -> list[str]:
        """Wait for the cycles in flight: while standing down after losing the lock, up to
        LOST_LOCK_GRACE_S (they must not overlap the next leader's for long). Once a stop is
        requested, up to STOP_GRACE_S after it, and not for a cycle only waiting in a long
        poll, which has nothing to finish. Returns the cycles left running."""
        lost_lock_deadline = time.monotonic() + LOST_LOCK_GRACE_S
        while True:
            with self._running_lock:
                running = sorted(self._running)
            deadline = lost_lock_deadline
            if self._stop_requested_at is not None:
                deadline = min(deadline, self._stop_requested_at + STOP_GRACE_S)
                running = [n for n in running if not self.contexts[n].in_long_poll]
            if not running or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        if running and self.stop.is_set():
            log.info("abandoning %s while stopping; the next start does its work", running)
        return running

    def check_schema(self) -> None:
        rev, head = current_revision(self.engine), head_revision()
        if rev != head:
            raise SystemExit(
                f"database at revision {rev or 'nothing'}, code expects {head}: "
                "run `python -m dashapp db upgrade`"
            )


def failure_line(error: str | None, status_error: str | None) -> str:
    """One line: why the cycle failed, and whether its status could be kept."""
    if status_error is None:
        return error or ""
    if status_error == error:
        return f"{error}; nor could its status be recorded"
    return f"{error or 'the cycle succeeded'}; its status could not be recorded: {status_error}"


def install_signal_handlers(runner: CollectorRunner) -> None:
    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping (signal %d)", signum)
        runner.request_stop()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
