"""Every address one page gives another: page paths, cross-page links and CSV exports.

A link is a contract between two pages (the receiving page must read what the
sending page writes), so each is built in one place. Pages import their own
`PATH` from here too, so a path changed here changes the route and every link to it.
Export links pin the window to absolute `since`/`until` (ISO 8601 Z) so the file holds
exactly the rows on screen; the parameters are those `dashapp.export.params` reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote

from dashapp.clock import iso_z
from dashapp.timerange import permalink_search

OVERVIEW = "/"
JOBS = "/jobs"
WALL = "/wall"
PIPELINES = "/pipelines"
SYSTEM = "/system"
LAMBDA = "/lambda"
LOGS = "/logs"
UPLOAD = "/upload"
UPLOADS = "/uploads"
FAILURES = "/failures"
AUDIT = "/audit"
ATHENA = "/athena"
ACCESS = "/access"
NOT_FOUND = "/404"

EXPORT = "/export"
RUN_LOGS_RANGE = "30d"  # a run's logs are looked for over the retention a run page shows


def _pinned(since: datetime, until: datetime) -> dict[str, str]:
    return {"since": iso_z(since), "until": iso_z(until)}


def overview_href(range_value: str | None = None) -> str:
    """The overview over a range ('/?range=6h')."""
    return OVERVIEW + permalink_search({"range": range_value})


def job_href(job_name: str, **params: str | None) -> str:
    """A job's page, e.g. `job_href("a job", range="6h")` → '/jobs/a%20job?range=6h'."""
    return f"{JOBS}/{quote(job_name, safe='')}" + permalink_search(params)


def run_logs_href(run_id: str, *, first_error: bool = False) -> str:
    """The log viewer on a Glue run; `first_error` opens it scrolled to, and focused on, its
    first error line (what a failed run's page should link to)."""
    query = {"run": run_id, "range": RUN_LOGS_RANGE, "jump": "first-error" if first_error else None}
    return LOGS + permalink_search(query)


def athena_href(*, q: str | None = None, fork: str | None = None, saved: int | None = None) -> str:
    """The Athena page on one query (`q`), or its editor opened on a copy (`fork`, `saved`)."""
    return ATHENA + permalink_search(
        {"q": q, "fork": fork, "saved": str(saved) if saved is not None else None}
    )


def upload_href(upload_id: str) -> str:
    """The uploads list opened on one upload's trail."""
    return UPLOADS + permalink_search({"upload": upload_id})


def _export(name: str, params: Mapping[str, str | None]) -> str:
    return f"{EXPORT}/{name}.csv" + permalink_search(params)


def job_summary_export(
    since: datetime,
    until: datetime,
    *,
    status: str | None = None,
    tag: str | None = None,
    dataset: str | None = None,
    q: str | None = None,
) -> str:
    """`/export/job-summary.csv` of exactly the overview's cards."""
    params = _pinned(since, until) | {"status": status, "tag": tag, "dataset": dataset, "q": q}
    return _export("job-summary", params)


def job_runs_export(job_name: str, since: datetime, until: datetime, state: str | None) -> str:
    """`/export/job-runs.csv` of a job's runs in the range, optionally in one state."""
    return _export("job-runs", {"job": job_name, "state": state} | _pinned(since, until))


def uploads_export(
    *, dataset: str, status: str, user: str, since: str, until: str, upload: str = ""
) -> str:
    """`/export/uploads.csv` of exactly what the uploads grid shows (every row, not a page)."""
    params = {"dataset": dataset, "status": status, "user": user, "upload": upload}
    return _export("uploads", params | {"since": since, "until": until})


def lambda_summary_export(since: datetime, until: datetime) -> str:
    """`/export/lambda-summary.csv` for exactly the Lambda table's window."""
    return _export("lambda-summary", _pinned(since, until))


def metrics_export(
    resource_type: str, name: str, metric: str, since: datetime, until: datetime
) -> str:
    """`/export/metrics.csv` for one resource's metric in a chart's window."""
    params = {"resource_type": resource_type, "name": name, "metric": metric}
    return _export("metrics", params | _pinned(since, until))


def log_events_export(
    *,
    group: str | None = None,
    stream: str | None = None,
    q: str | None = None,
    level: str | None = None,
    since: datetime,
    until: datetime,
) -> str:
    """`/export/log-events.csv` for the lines of one log group or one stream in a window."""
    params = {"group": group, "stream": stream, "q": q, "level": level}
    return _export("log-events", params | _pinned(since, until))


def athena_result_export(query_execution_id: str) -> str:
    """`/export/athena/<id>.csv`: the whole result of one Athena query."""
    return f"{EXPORT}/athena/{quote(query_execution_id, safe='')}.csv"
