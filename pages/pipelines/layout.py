"""Pipelines (`/pipelines`): one card per configured dataset, from upload location to Glue job.

A PM should read each card as a sentence: files for this dataset go to this S3
prefix, this Glue job ingests them, it expects these columns this often, and it
last ran like this. What the database does not know yet is said in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dash import html

from dashapp.config import Dataset
from dashapp.queries.job_summaries import JobSummary
from dashapp.web.humanize import duration, span
from layouts.components import badge, empty_state, icon, loading, notice, state_badge, time_ago
from pages import links

PATH = links.PIPELINES
NAME = "Pipelines"
CARDS = "pipelines-cards"


def layout(**_query: str) -> html.Div:
    """The page skeleton; pages/pipelines/callbacks.py fills the cards from the database."""
    return html.Div(
        [
            html.H1(NAME, className="h2"),
            html.P(
                "Each dataset you can upload: where its raw files land, the Glue job that "
                "ingests them, and how that job last ran.",
                className="lead smd-lead",
            ),
            html.Div(loading("pipelines"), id=CARDS),
        ]
    )


def s3_uri(bucket: str, prefix: str) -> str:
    """The raw location as people paste it into the AWS console or CLI."""
    return f"s3://{bucket}/{prefix}"


def dataset_cards(
    datasets: Sequence[Dataset],
    buckets: Mapping[str, str],
    summaries: Mapping[str, JobSummary],
    jobs_collected: bool,
    now: datetime,
) -> list[Any]:
    """Every dataset's card in a grid, or an explanation when no dataset is configured.

    When the collector has recorded no Glue job at all, one notice above the grid
    says so, instead of every card repeating it.
    """
    if not datasets:
        return [
            empty_state(
                "No datasets are configured",
                [
                    "Set ",
                    html.Code("SMD_DATASETS"),
                    " to a JSON list of datasets, each with a name, a raw prefix and the "
                    "Glue job that ingests it, then restart the web server.",
                ],
            )
        ]
    cards = [
        dataset_card(d, buckets[d.name], summaries.get(d.glue_job), jobs_collected, now)
        for d in datasets
    ]
    content: list[Any] = []
    if not jobs_collected:
        content.append(
            html.Div(
                empty_state(
                    "Run states are not collected yet",
                    [
                        "The collector has not recorded any Glue job so far, so the cards below "
                        "show configuration only. Start it with ",
                        html.Code("python -m collectors"),
                        "; run states appear after its first cycle.",
                    ],
                    "hourglass-split",
                ),
                className="mb-4",
            )
        )
    content.append(html.Div(cards, className="row row-cols-1 row-cols-xl-2 g-4"))
    return content


def dataset_card(
    dataset: Dataset,
    bucket: str,
    summary: JobSummary | None,
    jobs_collected: bool,
    now: datetime,
) -> html.Div:
    """One dataset as a card: header with run status, the flow, then the facts."""
    heading_id = f"dataset-{dataset.name}-heading"
    header = html.Div(
        [
            html.Div(
                [
                    html.H2(dataset.label, id=heading_id, className="h5 mb-1"),
                    html.Div(
                        ["Dataset ", html.Code(dataset.name)],
                        className="small text-body-secondary",
                    ),
                ]
            ),
            _status_badge(summary, jobs_collected),
        ],
        className="card-header d-flex justify-content-between align-items-start gap-3",
    )
    body: list[Any] = []
    if dataset.description:
        body.append(html.P(dataset.description, className="mb-3"))
    body.append(_flow(dataset, bucket))
    body.append(_facts(dataset, summary, jobs_collected, now))
    if summary and summary.last_run and summary.last_run.error_message:
        body.append(
            notice(
                [html.Strong("Last error: "), _truncate(summary.last_run.error_message, 300)],
                "danger",
                "exclamation-octagon-fill",
            )
        )
    return html.Div(
        html.Article(
            [header, html.Div(body, className="card-body")],
            className="card h-100 smd-pipeline",
            **{"aria-labelledby": heading_id},
        ),
        className="col",
    )


def _status_badge(summary: JobSummary | None, jobs_collected: bool) -> html.Span:
    if summary is not None and summary.last_run is not None:
        return state_badge(summary.last_run.state)
    if summary is not None and summary.gone_at is not None:
        return badge("Job deleted", "warning", "exclamation-triangle-fill")
    if summary is not None and summary.known:
        return badge("No runs yet", "secondary", "dash-circle")
    if jobs_collected:
        return badge("Job not found", "warning", "exclamation-triangle-fill")
    return badge("Not collected yet", "secondary", "hourglass-split")


def _flow(dataset: Dataset, bucket: str) -> html.Ol:
    """Upload location then Glue job, as an ordered list so the order is announced too."""
    return html.Ol(
        [
            html.Li(
                [
                    icon("cloud-arrow-up", "smd-flow-icon"),
                    html.Div(
                        [
                            html.Div("Raw files land in", className="smd-flow-label"),
                            html.Code(s3_uri(bucket, dataset.prefix), className="smd-flow-value"),
                        ]
                    ),
                ],
                className="smd-flow-step",
            ),
            html.Li(
                [
                    icon("arrow-right", "smd-flow-arrow"),
                    icon("gear-wide-connected", "smd-flow-icon"),
                    html.Div(
                        [
                            html.Div("Ingested by Glue job", className="smd-flow-label"),
                            html.Code(dataset.glue_job, className="smd-flow-value"),
                        ]
                    ),
                ],
                className="smd-flow-step",
            ),
        ],
        className="smd-flow",
        **{"aria-label": f"Data flow of {dataset.label}"},
    )


def _facts(
    dataset: Dataset, summary: JobSummary | None, jobs_collected: bool, now: datetime
) -> html.Dl:
    columns: Any = (
        html.Ul([html.Li(html.Code(c)) for c in dataset.expected_columns], className="smd-columns")
        if dataset.expected_columns
        else "None declared: any columns are accepted"
    )
    sla = (
        f"A successful run at least every {span(dataset.expected_interval_s)}"
        if dataset.expected_interval_s
        else "None set"
    )
    rows = [
        ("Accepted formats", ", ".join(f.upper() for f in dataset.formats)),
        ("Expected columns", columns),
        ("Freshness SLA", sla),
        ("Last run", _last_run(dataset, summary, jobs_collected, now)),
        ("Last success", _last_success(dataset, summary, now)),
    ]
    items: list[Any] = []
    for term, value in rows:
        items.append(html.Dt(term, className="col-sm-4"))
        items.append(html.Dd(value, className="col-sm-8"))
    return html.Dl(items, className="row smd-facts mb-0")


def _last_run(
    dataset: Dataset, summary: JobSummary | None, jobs_collected: bool, now: datetime
) -> Any:
    if summary is not None and summary.last_run is not None:
        run = summary.last_run
        parts: list[Any] = ["Started ", time_ago(run.started_at, now)]
        if run.duration_s is not None:
            parts.append(f", ran {duration(run.duration_s)}")
        elif run.completed_at is None:
            parts.append(f", running for {duration((now - run.started_at).total_seconds())}")
        return parts
    if summary is not None and summary.gone_at is not None:
        return ["The job was deleted from AWS; last seen ", time_ago(summary.gone_at, now), "."]
    if summary is not None and summary.known:
        return "No runs recorded yet: the job exists but has not run since collection began."
    if jobs_collected:
        return [
            "Not found in the AWS account when last collected. Check the job name ",
            html.Code(dataset.glue_job),
            " in SMD_DATASETS.",
        ]
    return "Not collected yet"


def _last_success(dataset: Dataset, summary: JobSummary | None, now: datetime) -> Any:
    if summary is None or summary.last_success_at is None:
        if summary is not None and summary.last_run is not None:
            return [
                icon("exclamation-triangle-fill", "text-warning-emphasis me-1"),
                "No successful run recorded",
            ]
        if summary is not None and summary.known:
            return "None yet"
        return "Not collected yet"
    age = (now - summary.last_success_at).total_seconds()
    when = time_ago(summary.last_success_at, now)
    sla = dataset.expected_interval_s
    if sla is None:
        return when
    if age <= sla:
        return [icon("check-circle-fill", "text-success-emphasis me-1"), "On time: ", when]
    return [
        icon("exclamation-triangle-fill", "text-warning-emphasis me-1"),
        "Late: last success ",
        when,
        f", the SLA is {span(sla)}",
    ]


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
