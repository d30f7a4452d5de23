"""`/export/job-summary.csv`: the Overview's cards as CSV, one row per job.

Same parameters as the page's URL (`status`, `tag`, `dataset`, `q`) plus the window
(`since`/`until`, default the last 24 h), and the same pure steps as the page
(`queries.cards.build_cards` → `filter_cards` → `order_cards`), so a download
lists exactly the cards on screen, in the same order, without the page's cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dashapp.config import Dataset
from dashapp.export.cells import number_cell, text_cell, time_cell
from dashapp.export.params import WINDOW_PARAMS, BadParameter, NotFound, parse_window, single_values
from dashapp.queries import cards as job_cards
from dashapp.queries.filters import Window

JOB_SUMMARY_PARAMS = ("status", "tag", "dataset", "q", *WINDOW_PARAMS)
JOB_SUMMARY_HEADER = (
    "job_name",
    "status",
    "sla_interval_s",
    "late",
    "last_run_id",
    "last_run_state",
    "last_run_started_at",
    "last_run_duration_s",
    "median_duration_s",
    "last_run_rows_read",
    "last_run_rows_written",
    "last_run_dpu_seconds",
    "last_run_cost",
    "runs",
    "succeeded",
    "failed",
    "success_rate",
    "dpu_seconds",
    "cost",
    "currency",
    "last_success_at",
)


class _Args(Protocol):
    """Flask's `request.args` as the parser uses it."""

    def keys(self) -> Iterable[str]: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class JobSummaryRequest:
    window: Window
    filter: job_cards.CardFilter


def parse_job_summary_args(
    args: _Args, now: datetime, datasets: Sequence[Dataset]
) -> JobSummaryRequest:
    """Validate the parameters: a known status, a configured dataset, the window."""
    values = single_values(args, JOB_SUMMARY_PARAMS)
    status = values.get("status")
    if status is not None:
        status = status.lower()
        if status not in job_cards.STATUS_ORDER:
            raise BadParameter(
                "status",
                f"unknown status {values['status']!r}; one of {', '.join(job_cards.STATUS_ORDER)}",
            )
    dataset = values.get("dataset")
    if dataset is not None and dataset not in {d.name for d in datasets}:
        raise NotFound("dataset", f"no dataset named {dataset!r}")
    flt = job_cards.CardFilter(status, values.get("tag"), dataset, values.get("q"))
    return JobSummaryRequest(parse_window(values, now), flt)


def job_summary_cells(card: job_cards.JobCard, currency: str) -> list[str]:
    """One row of job-summary.csv, in JOB_SUMMARY_HEADER order."""
    job, run, sla = card.job, card.job.last_run, card.sla
    return [
        text_cell(job.name),
        card.status,
        number_cell(sla.interval_s) if sla else "",
        ("true" if sla.late else "false") if sla else "",
        text_cell(run.run_id) if run else "",
        text_cell(run.state) if run else "",
        time_cell(run.started_at) if run else "",
        number_cell(run.duration_s, 3) if run else "",
        number_cell(job.median_duration_s, 3),
        number_cell(run.rows_read) if run else "",
        number_cell(run.rows_written) if run else "",
        number_cell(run.dpu_seconds, 3) if run else "",
        number_cell(card.last_cost, 6),
        number_cell(job.stats.runs),
        number_cell(job.stats.succeeded),
        number_cell(job.stats.failed),
        number_cell(job.stats.success_rate, 6),
        number_cell(job.stats.dpu_seconds, 3),
        number_cell(card.range_cost, 6),
        text_cell(currency),
        time_cell(job.last_success_at),
    ]
