"""What a Glue run is to every read: its state groups and its columns, defined once.

The run history grid, the job-runs export and the cards read the same columns in the
same order from here, so a run looks the same in a grid, a card and a CSV file.
"""

from __future__ import annotations

from dashapp.aws.glue import ACTIVE_STATES
from dashapp.models import JobRun

__all__ = ["ACTIVE_STATES", "FAILED_STATES", "RUN_COLUMNS", "SUCCEEDED"]

FAILED_STATES = ("FAILED", "ERROR", "TIMEOUT")
SUCCEEDED = "SUCCEEDED"

# A run's public columns, in the order the run grid and job-runs.csv show them.
RUN_COLUMNS = {
    "run_id": JobRun.run_id,
    "state": JobRun.state,
    "started_at": JobRun.started_at,
    "completed_at": JobRun.completed_at,
    "duration_s": JobRun.duration_s,
    "dpu_seconds": JobRun.dpu_seconds,
    "rows_read": JobRun.rows_read,
    "rows_written": JobRun.rows_written,
    "attempt": JobRun.attempt,
    "trigger_name": JobRun.trigger_name,
    "error_message": JobRun.error_message,
}
