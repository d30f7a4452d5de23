"""The filters every read takes: a time window, run states, resource types, metrics, log levels.

Pages, exports and the collectors' readers share these values, so "a run state" or
"a known metric" means the same thing on a page as in a CSV file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

RUN_STATES = (
    "STARTING",
    "RUNNING",
    "STOPPING",
    "STOPPED",
    "SUCCEEDED",
    "FAILED",
    "TIMEOUT",
    "ERROR",
    "WAITING",
    "EXPIRED",
)
RESOURCE_TYPES = ("glue_job", "lambda_function")
# What the collector stores; a metric found in the database is known too (see export_queries).
KNOWN_METRICS: Mapping[str, tuple[str, ...]] = {
    "lambda_function": ("Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"),
    "glue_job": (
        "glue.driver.aggregate.recordsRead",
        "glue.driver.aggregate.bytesRead",
        "glue.driver.aggregate.elapsedTime",
        "glue.driver.aggregate.numFailedTasks",
        "RowsWritten",
    ),
}

# Most severe first; `level=WARN` means WARN and ERROR, as the log viewer's filter does.
LOG_LEVELS: tuple[str, ...] = ("ERROR", "WARN", "INFO", "DEBUG")


@dataclass(frozen=True)
class Window:
    """The half-open time range [since, until) a read covers, aware UTC."""

    since: datetime
    until: datetime


@dataclass(frozen=True)
class JobRunsRequest:
    window: Window
    job: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class MetricsRequest:
    window: Window
    resource_type: str | None = None
    name: str | None = None
    metric: str | None = None


@dataclass(frozen=True)
class LogEventsRequest:
    window: Window
    group: str | None = None
    stream: str | None = None
    q: str | None = None
    levels: tuple[str, ...] | None = None
