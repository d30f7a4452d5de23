"""Worker threads that carry each query QUEUED -> RUNNING -> SUCCEEDED/FAILED (or CANCELLED).

Why threads in the sandbox process: StartQueryExecution must return at once
with the query QUEUED, as Athena does; the client then polls.  A worker per
query waits out the queue time and a free slot (Athena caps concurrent DML
queries; the sandbox allows ``max_concurrent``), runs the SQL, keeps the query
RUNNING for at least ``min_running_s`` and only then publishes the outcome.
StopQueryExecution interrupts DuckDB and wakes the worker, which then drops
its result: a cancelled query never turns SUCCEEDED.

The knobs (:class:`Knobs`) exist so tests and the demo can make a query queue
or run long enough to be watched or cancelled; time comes from ``knobs.clock``
so a test holding a :class:`~dashapp.clock.FixedClock` decides when a query
may move on.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from dashapp.clock import Clock, SystemClock

from .errors import INTERNAL_ERROR, SYSTEM, AthenaQueryError
from .lifecycle import ACTIVE_STATES, LOCK, SandboxExecution, transition

__all__ = ["CANCEL_REASON", "KNOBS", "Knobs", "QueryRunner", "Task"]

log = logging.getLogger(__name__)
CANCEL_REASON = "Query cancelled by user"
_POLL_S = 0.02


@dataclass
class Knobs:
    """How long queries queue and run at least, how many run at once, and whose clock."""

    queued_s: float = 0.1
    min_running_s: float = 0.3
    max_concurrent: int = 4
    clock: Clock = field(default_factory=SystemClock)

    def update(self, **values: Any) -> None:
        for name, value in values.items():
            if name not in ("queued_s", "min_running_s", "max_concurrent", "clock"):
                raise ValueError(f"unknown Athena knob {name!r}")
            if name != "clock" and (not isinstance(value, int | float) or value < 0):
                raise ValueError(f"{name} must be a non-negative number")
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "queued_s": self.queued_s,
            "min_running_s": self.min_running_s,
            "max_concurrent": self.max_concurrent,
        }


#: The process's knobs (the sandbox has one Athena); ``/_sandbox/athena`` changes them.
KNOBS = Knobs()

#: Runs the query; receives the execution and a callback to register the DuckDB connection.
#: Returns a function that publishes the result (writes the CSV), called just before SUCCEEDED.
Task = Callable[[SandboxExecution, Callable[[duckdb.DuckDBPyConnection], None]], Callable[[], None]]


_RUNNERS: weakref.WeakSet[QueryRunner] = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    for found in list(_RUNNERS):
        found.shutdown(timeout=5.0)


class QueryRunner:
    """One backend's query workers (created lazily, shut down when moto resets the backend)."""

    def __init__(self, knobs: Knobs = KNOBS) -> None:
        _RUNNERS.add(self)
        self.knobs = knobs
        self._running = 0
        self._slots = threading.Condition(threading.Lock())
        self._connections: dict[str, duckdb.DuckDBPyConnection] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._active: dict[str, SandboxExecution] = {}
        self._waiting: list[str] = []  # QUEUED ids in submission order

    def now(self) -> datetime:
        return self.knobs.clock.now()

    def submit(self, execution: SandboxExecution, task: Task) -> None:
        thread = threading.Thread(
            target=self._work,
            args=(execution, task),
            name=f"athena-{execution.id[:8]}",
            daemon=True,
        )
        self._threads[execution.id] = thread
        self._active[execution.id] = execution
        with self._slots:
            self._waiting.append(execution.id)
        thread.start()

    def stop(self, execution: SandboxExecution) -> None:
        """StopQueryExecution: CANCELLED if still QUEUED/RUNNING, else nothing changes."""
        with LOCK:
            if execution.state not in ACTIVE_STATES:
                return
            transition(execution, "CANCELLED", at=self._at(execution), reason=CANCEL_REASON)
            con = self._connections.get(execution.id)
        if con is not None:
            with contextlib.suppress(duckdb.Error):
                con.interrupt()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every unfinished query and wait for its worker (moto reset, process exit).

        Waiting matters: a worker still inside DuckDB when the interpreter exits
        aborts the process.
        """
        for execution in list(self._active.values()):
            self.stop(execution)
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def join(self, execution_id: str, timeout: float) -> None:
        thread = self._threads.get(execution_id)
        if thread is not None:
            thread.join(timeout)

    # --- the worker ------------------------------------------------------------------------
    def _at(self, execution: SandboxExecution) -> datetime:
        """Now, but never before the query's last recorded moment (a FixedClock may lag)."""
        floor = execution.started or execution.submitted
        return max(self.now(), floor)

    def _wait_until(self, execution: SandboxExecution, deadline: datetime) -> bool:
        """Wait for ``deadline`` on the knobs' clock; False if the query ended meanwhile."""
        while True:
            remaining = (deadline - self.now()).total_seconds()
            if remaining <= 0:
                return not execution.ended.is_set()
            if execution.ended.wait(min(_POLL_S, remaining)):
                return False

    def _take_slot(self, execution: SandboxExecution) -> bool:
        """Wait for a free slot; queries take slots in submission order, as Athena queues them."""
        with self._slots:
            while self._running >= max(1, int(self.knobs.max_concurrent)) or (
                self._waiting and self._waiting[0] != execution.id
            ):
                if execution.ended.is_set():
                    self._leave_queue(execution.id)
                    return False
                self._slots.wait(_POLL_S)
            self._leave_queue(execution.id)
            if execution.ended.is_set():
                return False
            self._running += 1
            return True

    def _leave_queue(self, execution_id: str) -> None:
        if execution_id in self._waiting:
            self._waiting.remove(execution_id)
            self._slots.notify_all()

    def _free_slot(self) -> None:
        with self._slots:
            self._running -= 1
            self._slots.notify_all()

    def _work(self, execution: SandboxExecution, task: Task) -> None:
        try:
            queued_until = execution.submitted + timedelta(seconds=self.knobs.queued_s)
            if not self._wait_until(execution, queued_until) or not self._take_slot(execution):
                with self._slots:
                    self._leave_queue(execution.id)
                return
            try:
                self._run(execution, task)
            finally:
                self._free_slot()
        except Exception:
            log.exception("Athena sandbox worker for %s crashed", execution.id)
        finally:
            self._connections.pop(execution.id, None)
            self._active.pop(execution.id, None)
            self._threads.pop(execution.id, None)

    def _run(self, execution: SandboxExecution, task: Task) -> None:
        with LOCK:
            if execution.state != "QUEUED":
                return
            transition(execution, "RUNNING", at=self._at(execution))

        def register(con: duckdb.DuckDBPyConnection) -> None:
            self._connections[execution.id] = con

        publish: Callable[[], None] | None = None
        failure: AthenaQueryError | None = None
        try:
            publish = task(execution, register)
        except AthenaQueryError as exc:
            failure = exc
        except duckdb.InterruptException:
            return  # StopQueryExecution interrupted it; the query is already CANCELLED
        except Exception as exc:  # noqa: BLE001 - any engine failure is the query's failure
            failure = AthenaQueryError(
                f"GENERIC_INTERNAL_ERROR: {type(exc).__name__}: {exc}",
                category=SYSTEM,
                type_=INTERNAL_ERROR,
            )
        assert execution.started is not None
        running_until = execution.started + timedelta(seconds=self.knobs.min_running_s)
        if not self._wait_until(execution, running_until):
            return
        if failure is None and publish is not None:
            try:
                publish()  # outside LOCK: writing a large CSV must not hold up Stop calls
            except AthenaQueryError as exc:
                failure = exc
        with LOCK:
            if execution.state != "RUNNING":
                return  # cancelled meanwhile (its CSV may exist, as a partial one does in S3)
            if failure is not None:
                transition(execution, "FAILED", at=self._at(execution), error=failure.error)
            else:
                transition(execution, "SUCCEEDED", at=self._at(execution))
