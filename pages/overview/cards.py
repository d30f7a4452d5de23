"""The overview's job cards: one status line per Glue job that a person can act on.

A card says what state the job is in (icon and word, never colour alone), when it last
ran and for how long against its median, how many rows, its success rate over the range
with a sparkline, what the last run cost, and whether its data is on time. The wall
screen shows the same badges, so they are defined here once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dash import html

from dashapp.queries.cards import JobCard, SparkBucket, tag_labels
from dashapp.web.humanize import duration, money, percent, span
from layouts.components import Vocabulary, badge, badge_of, empty_state, notice, time_ago
from pages import links

# Card status → (label, tone, icon) of its badge.
STATUS_BADGES: Vocabulary = {
    "failed": ("Failed", "danger", "x-octagon-fill"),
    "late": ("Late", "warning", "alarm-fill"),
    "running": ("Running", "info", "arrow-repeat"),
    "stopped": ("Stopped", "secondary", "stop-circle-fill"),
    "succeeded": ("Succeeded", "success", "check-circle-fill"),
    "syncing": ("Syncing", "secondary", "hourglass-split"),
    "never": ("Never run", "secondary", "dash-circle"),
}
SYNCING_TEXT = "Syncing — first collection in progress"


# --- cards ------------------------------------------------------------------------------


def status_badge(status: str) -> html.Span:
    """The card's state: icon and word."""
    return badge_of(STATUS_BADGES, status)


def sla_badge(card: JobCard) -> html.Span | None:
    """'On time' / 'Late' against the job's SLA; None when the job has none."""
    sla = card.sla
    if sla is None:
        return None
    source = "dataset SLA" if sla.source == "dataset" else "schedule"
    title = f"Expected to succeed at least every {span(sla.interval_s)} ({source})"
    if sla.late:
        return badge("Late", "warning", "alarm-fill", title=title)
    return badge("On time", "success", "clock-fill", title=title)


SPARK_BAR_PX = 6
SPARK_GAP_PX = 2
SPARK_COLOURS = {"ok": "--bs-success", "warn": "--bs-warning", "bad": "--bs-danger"}


def sparkline(buckets: Sequence[SparkBucket], label: str) -> html.Div:
    """Success rate per slice of the range as small bars, with the numbers as its text.

    The bars are background layers of one element, not one element each: a page of
    cards would otherwise build hundreds of components on every refresh.
    """
    layers: list[tuple[str, str, str]] = []  # (image, size, position)
    described = []
    for i, b in enumerate(buckets):
        x = f"{i * (SPARK_BAR_PX + SPARK_GAP_PX)}px"
        rate = b.rate
        if rate is None:
            colour, height = "--bs-secondary-color", "2px"
            described.append("no runs")
        else:
            tone = "ok" if rate >= 0.999 else ("warn" if rate >= 0.5 else "bad")
            colour, height = SPARK_COLOURS[tone], f"{max(rate * 100, 8):.0f}%"
            described.append(percent(rate))
        layers.append(
            (f"linear-gradient(var({colour}), var({colour}))", f"{SPARK_BAR_PX}px {height}", x)
        )
    width = max(len(buckets) * (SPARK_BAR_PX + SPARK_GAP_PX) - SPARK_GAP_PX, SPARK_BAR_PX)
    return html.Div(
        className="smd-spark",
        role="img",
        style={
            "width": f"{width}px",
            "backgroundImage": ", ".join(image for image, _, _ in layers) or "none",
            "backgroundSize": ", ".join(size for _, size, _ in layers),
            "backgroundPosition": ", ".join(f"{x} 100%" for _, _, x in layers),
        },
        **{"aria-label": f"{label}, oldest to newest: {', '.join(described)}"},
    )


def _vs_median(run_s: float | None, median_s: float | None) -> list[Any]:
    if run_s is None:
        return ["–"]
    text: list[Any] = [duration(run_s)]
    if median_s:
        delta = (run_s - median_s) / median_s
        word = "slower" if delta > 0 else "faster"
        text.append(
            html.Span(
                f" (median {duration(median_s)}; "
                + ("as usual" if abs(delta) < 0.05 else f"{abs(delta) * 100:.0f}% {word}")
                + ")",
                className="text-body-secondary",
            )
        )
    return text


def _runs_text(rate: float | None, finished: int) -> str:
    return f"{percent(rate)} of {finished} run" + ("" if finished == 1 else "s")


def _rows(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def job_card(
    card: JobCard, now: datetime, range_value: str, currency: str, index: int = 0
) -> html.Div:
    """One job as an article: header (name, state, SLA), facts, and the last error."""
    job = card.job
    run = job.last_run
    heading_id = f"job-{index}-{re.sub(r'[^A-Za-z0-9_-]', '-', job.name)}-h"
    header_badges = [status_badge(card.status)]
    sla = sla_badge(card)
    if sla is not None and card.status != "late":
        header_badges.append(sla)
    last_run: Any
    if run is None:
        last_run = SYNCING_TEXT if card.status == "syncing" else "No runs recorded"
    else:
        last_run = ["Started ", time_ago(run.started_at, now)]
        if run.completed_at is None:
            last_run.append(f", running for {duration((now - run.started_at).total_seconds())}")
    rate = job.stats.success_rate
    facts: list[tuple[str, Any]] = [
        ("Last run", last_run),
        ("Duration", _vs_median(run.duration_s if run else None, job.median_duration_s)),
        (
            "Rows",
            f"{_rows(run.rows_read)} read · {_rows(run.rows_written)} written" if run else "–",
        ),
        (
            "Success rate",
            [
                _runs_text(rate, job.stats.succeeded + job.stats.failed),
                sparkline(job.spark, f"Success rate of {job.name} over the range"),
            ],
        ),
        (
            "Last run cost",
            money(card.last_cost, currency)
            + (f" ({run.dpu_seconds:,.0f} DPU-s)" if run and run.dpu_seconds else ""),
        ),
    ]
    if card.sla is not None:
        if card.sla.age_s is None:
            fresh: Any = f"Never succeeded; expected every {span(card.sla.interval_s)}"
        else:
            fresh = [
                "Last success ",
                time_ago(job.last_success_at, now) if job.last_success_at else "–",
                f"; expected every {span(card.sla.interval_s)}",
            ]
        facts.append(("Freshness", fresh))
    items: list[Any] = []
    for term, value in facts:
        items.append(html.Dt(term, className="col-5"))
        items.append(html.Dd(value, className="col-7"))
    body: list[Any] = [html.Dl(items, className="row smd-facts mb-2")]
    labels = card_labels(card)
    if labels:
        body.append(
            html.Ul(
                [html.Li(label) for label in labels],
                className="smd-tags",
                **{"aria-label": "Datasets and tags"},
            )
        )
    if run is not None and run.error_message and card.status == "failed":
        body.append(_error_notice("Error: ", run.run_id, run.error_message, job.name, "danger"))
    elif job.last_failure is not None:
        failure = job.last_failure
        body.append(
            _error_notice(
                ["Last failure (", time_ago(failure.started_at, now), "): "],
                failure.run_id,
                failure.error_message or failure.state.title(),
                job.name,
                "warning",
            )
        )
    return html.Article(
        [
            html.Div(
                [
                    html.H3(
                        html.A(job.name, href=links.job_href(job.name, range=range_value)),
                        id=heading_id,
                        className="h5 mb-0 smd-card-title",
                    ),
                    html.Div(header_badges, className="d-flex gap-1 flex-wrap"),
                ],
                className="card-header d-flex justify-content-between align-items-start gap-2",
            ),
            html.Div(body, className="card-body"),
        ],
        className=f"card smd-job smd-job--{card.status}",
        **{"aria-labelledby": heading_id, "data-job": job.name, "data-status": card.status},
    )


def _error_notice(lead: Any, run_id: str, message: str, job_name: str, tone: Any) -> html.Div:
    """A run's error on a card, with its logs one click away."""
    return notice(
        [
            html.Strong(lead),
            html.Span(_truncate(message, 240), className="smd-job-error"),
            " ",
            html.A(
                "Logs",
                href=links.run_logs_href(run_id, first_error=True),
                className="ms-1",
                **{"aria-label": f"Logs of failed run {run_id} of {job_name}"},
            ),
        ],
        tone,
        "exclamation-octagon-fill" if tone == "danger" else "exclamation-triangle-fill",
    )


def card_labels(card: JobCard) -> list[str]:
    """The card's datasets as 'dataset=name', then its tags, each once: a job tagged with
    its own dataset (the sandbox tags every ingest job so) would otherwise say it twice."""
    labels = [f"dataset={d}" for d in card.datasets]
    return labels + [t for t in tag_labels(card.job.tags) if t not in labels]


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cards_grid(
    cards: Sequence[JobCard],
    now: datetime,
    range_value: str,
    currency: str,
    any_jobs: bool,
    *,
    syncing: bool = False,
) -> list[Any]:
    """A card for each job given (the caller picks how many), or why there are none;
    `syncing` (runs not read in full yet) says why some cards have no verdict."""
    if not any_jobs:
        return [
            empty_state(
                "No Glue jobs collected yet",
                [
                    "Cards appear after the collector's first inventory cycle (",
                    html.Code("python -m collectors"),
                    ").",
                ],
                "hourglass-split",
            )
        ]
    if not cards:
        return [empty_state("No job matches these filters", "Clear a filter or widen the range.")]
    shown = [job_card(c, now, range_value, currency, i) for i, c in enumerate(cards)]
    grid: list[Any] = [html.Div(shown, className="smd-cards")]
    if syncing:
        grid.insert(0, syncing_notice())
    return grid


def syncing_notice() -> html.Div:
    """Why cards say "Syncing" and the tiles count no late job yet, in the first minute."""
    return html.Div(
        notice(
            [
                html.Strong(f"{SYNCING_TEXT}. "),
                "The collector is still reading every job's run history; until it has, a job "
                "without runs so far shows “Syncing” rather than a verdict on its freshness.",
            ],
            "info",
            "hourglass-split",
        ),
        className="smd-syncing mb-3",
    )
