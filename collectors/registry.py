"""Every collector job in one declarative list: what runs, how often, and in which order.

Intervals come from settings; `--once` runs the list top to bottom (inventory
first, so the runs, metrics and logs collectors know what exists).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from collectors.athena import collect_catalog, follow_queries
from collectors.context import CollectorContext, CycleResult
from collectors.events import consume_events
from collectors.glue_runs import collect_glue_runs
from collectors.inventory import collect_inventory
from collectors.logs import collect_logs, follow_logs
from collectors.metrics import collect_metrics
from collectors.retention import collect_retention
from collectors.retries import collect_retries
from dashapp.config import Settings

#: The process a job runs in under `python -m collectors`. The live pollers (a running
#: job's log lines, a user's Athena query) run every second in a process of their own:
#: beside the bulk collectors, which parse thousands of AWS answers a cycle, they waited
#: for the GIL and overran their second (bench/collectors.py at 5,000 jobs).
BULK = "bulk"
LIVE = "live"
GROUPS = (BULK, LIVE)


@dataclass(frozen=True)
class CollectorJob:
    name: str
    run: Callable[[CollectorContext], CycleResult]
    interval: Callable[[Settings], float]
    description: str
    aws_permissions: tuple[str, ...] = ()
    #: Where in its interval its cycles fall after the first (a fraction of the interval).
    #: The bulk collectors share one process and its GIL: started together, glue_runs,
    #: logs and metrics met every minute and slowed each other's cycles.
    #: At the default intervals glue_runs runs at :00/:15/:30/:45, metrics at :04, logs at
    #: :20/:50 and inventory (every 5 minutes, ~32 s) at :16, after metrics' cycle: each
    #: in the others' gaps at 5,000 jobs and functions.
    phase: float = 0.0
    group: str = BULK


JOBS: tuple[CollectorJob, ...] = (
    CollectorJob(
        "inventory",
        collect_inventory,
        lambda s: s.collect_inventory_interval_s,
        "Glue jobs and schedules, Lambda functions, tags; marks deleted ones gone",
        ("glue:GetJobs", "glue:GetTriggers", "lambda:ListFunctions", "tag:GetResources"),
        phase=16 / 300,
    ),
    CollectorJob(
        "glue_runs",
        collect_glue_runs,
        lambda s: s.collect_glue_runs_interval_s,
        "Reconciles job runs with GetJobRuns (newest first, stops at what is stored)",
        ("glue:GetJobRuns",),
    ),
    CollectorJob(
        "events",
        consume_events,
        # Continuous: each cycle long-polls for collect_events_wait_s; the next starts within 1 s.
        lambda s: 1.0,
        "Applies Glue state changes and S3 uploads from the EventBridge-fed SQS queue",
        (
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "glue:GetJobRun",
            "s3:GetObject",
            "cloudwatch:GetMetricData",
        ),
    ),
    CollectorJob(
        "metrics",
        collect_metrics,
        lambda s: s.collect_metrics_interval_s,
        "Lambda and per-run Glue metrics with GetMetricData (500 queries a call)",
        ("cloudwatch:GetMetricData",),
        phase=1 / 15,
    ),
    CollectorJob(
        "logs",
        collect_logs,
        lambda s: s.collect_logs_interval_s,
        "Final lines of finished runs, backlog, Lambda log streams with new events",
        ("logs:GetLogEvents", "logs:DescribeLogStreams"),
        phase=2 / 3,
    ),
    CollectorJob(
        "log_follow",
        follow_logs,
        lambda s: s.collect_log_follow_interval_s,
        "Follows the log streams of running Glue jobs every second",
        ("logs:GetLogEvents",),
        group=LIVE,
    ),
    CollectorJob(
        "retries",
        collect_retries,
        lambda s: s.collect_retries_interval_s,
        "Re-runs failed runs with a transient error, per SMD_RETRY_POLICIES (attempts, back-off)",
        ("glue:StartJobRun",),
    ),
    CollectorJob(
        "athena",
        follow_queries,
        lambda s: s.collect_athena_interval_s,
        "Follows unfinished Athena queries to their end (state, error, bytes scanned)",
        ("athena:BatchGetQueryExecution",),
        group=LIVE,
    ),
    CollectorJob(
        "catalog",
        collect_catalog,
        lambda s: s.collect_catalog_interval_s,
        "Copies the Glue Data Catalog (databases, tables, columns) for the schema browser",
        ("glue:GetDatabases", "glue:GetTables"),
    ),
    CollectorJob(
        "retention",
        collect_retention,
        lambda s: s.collect_retention_interval_s,
        "Prunes metric points, log events and runs past their retention",
    ),
)


def job(name: str) -> CollectorJob:
    for j in JOBS:
        if j.name == name:
            return j
    raise KeyError(f"no collector named {name!r}; known: {', '.join(j.name for j in JOBS)}")


def in_group(jobs: Sequence[CollectorJob], group: str) -> list[CollectorJob]:
    return [j for j in jobs if j.group == group]
