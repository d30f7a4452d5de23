"""An Athena query execution and the only moves its state may make.

Why its own module: moto's ``Execution`` is a ``ManagedState`` that jumps to
SUCCEEDED the moment it is read and cannot fail; the sandbox's execution is a
plain record whose state changes only through :func:`transition`, called by
the runner (a worker thread) and by ``StopQueryExecution``.  Keeping the state
machine apart from the worker makes the legal moves testable without threads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ACTIVE_STATES",
    "LEGAL_TRANSITIONS",
    "LOCK",
    "TERMINAL_STATES",
    "AthenaError",
    "SandboxExecution",
    "transition",
]

ACTIVE_STATES = frozenset({"QUEUED", "RUNNING"})
TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
#: The moves Athena itself makes; anything else is a sandbox bug, so it raises.
LEGAL_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "QUEUED": frozenset({"RUNNING", "FAILED", "CANCELLED"}),
    "RUNNING": frozenset({"SUCCEEDED", "FAILED", "CANCELLED"}),
}
#: Guards every state change: the worker finishing and StopQueryExecution race.
LOCK = threading.RLock()


@dataclass(frozen=True)
class AthenaError:
    """``Status.AthenaError``: category 1 SYSTEM / 2 USER, the catalog's type, the message."""

    category: int
    type: int
    message: str
    retryable: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "ErrorCategory": self.category,
            "ErrorType": self.type,
            "Retryable": self.retryable,
            "ErrorMessage": self.message,
        }


@dataclass
class SandboxExecution:
    """One query execution, as GetQueryExecution reports it."""

    id: str
    query: str
    submitted: datetime
    database: str
    catalog: str
    workgroup: str
    output_location: str | None
    statement_type: str = "DML"
    execution_parameters: list[str] | None = None
    state: str = "QUEUED"
    started: datetime | None = None
    completed: datetime | None = None
    state_change_reason: str | None = None
    error: AthenaError | None = None
    data_scanned_bytes: int = 0
    #: The rendered result (header + rows), set just before SUCCEEDED; see ``resultfile``.
    result: Any = None
    #: Set once the query is terminal: wakes a worker waiting out the queue or run time.
    ended: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def status(self) -> str:
        """moto's name for the state (its GetQueryRuntimeStatistics reads it)."""
        return self.state

    @property
    def is_finished(self) -> bool:
        return self.state in TERMINAL_STATES

    def queue_ms(self) -> int:
        end = self.started or self.completed
        return _ms(self.submitted, end) if end else 0

    def engine_ms(self) -> int:
        if self.started is None:
            return 0
        return _ms(self.started, self.completed) if self.completed else 0

    def total_ms(self) -> int:
        return _ms(self.submitted, self.completed) if self.completed else 0


def _ms(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds() * 1000))


def transition(
    execution: SandboxExecution,
    state: str,
    *,
    at: datetime,
    error: AthenaError | None = None,
    reason: str | None = None,
) -> None:
    """Move ``execution`` to ``state`` at ``at``, as Athena records it.

    RUNNING sets the start of engine time; terminal states set the completion
    time; FAILED carries ``error`` (its message is also the StateChangeReason,
    as in Athena).  Illegal moves raise ``ValueError``.
    """
    with LOCK:
        current = execution.state
        if state not in LEGAL_TRANSITIONS.get(current, frozenset()):
            raise ValueError(f"illegal Athena query transition {current} -> {state}")
        if at < execution.submitted:
            raise ValueError("transition time is before the query was submitted")
        if (error is not None) != (state == "FAILED"):
            raise ValueError("an AthenaError is recorded exactly when the query FAILED")
        execution.state = state
        if state == "RUNNING":
            execution.started = at
        if state in TERMINAL_STATES:
            execution.completed = at
            execution.ended.set()
        if error is not None:
            execution.error = error
            execution.state_change_reason = error.message
        elif reason is not None:
            execution.state_change_reason = reason
