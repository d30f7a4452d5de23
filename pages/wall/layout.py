"""Wall screen (`/wall`): the Overview for a screen across the room. No controls, no navbar.

Dark, large type (assets/smd-wall.css scales everything from the viewport, so the
same layout reads at 1920×1080 and 3840×2160). Failed and late jobs take the big
tiles at the top; healthy jobs shrink to a compact list. A banner warns when the
data is older than it should be, and assets/smd-wall.js reloads the page by itself
(with backoff) when callbacks start failing: a server restart or an expired session
never leaves a frozen screen on the wall.

`?range=` (default 24h) sets the window of the success rates; it is the only state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import dcc, html

from dashapp.queries.cards import JobCard, Totals
from dashapp.timerange import normalise_range
from dashapp.web.humanize import duration, span
from layouts.components import icon, time_ago
from pages import links
from pages.overview.cards import STATUS_BADGES, SYNCING_TEXT

PATH = links.WALL
NAME = "Wall screen"

ROOT = "wall"
RANGE = "wall-range"
CLOCK = "wall-clock"
STALE = "wall-stale"
SUMMARY = "wall-summary"
PROBLEMS = "wall-problems"
HEALTHY = "wall-healthy"

MAX_PROBLEMS = 12
MAX_HEALTHY = 60


def layout(**query: str) -> html.Div:
    """The kiosk page: pages/wall/callbacks.py fills every part on the refresh timer."""
    value, _ = normalise_range(query.get("range"))
    return html.Div(
        [
            dcc.Store(id=RANGE, data=value),
            html.Div(
                [
                    html.H1(
                        [icon("lightning-charge-fill", "me-2"), "Glue jobs"],
                        className="smd-wall-title",
                    ),
                    html.Div(id=CLOCK, className="smd-wall-clock", **{"aria-live": "off"}),
                ],
                className="smd-wall-head",
            ),
            html.Div(id=STALE, role="alert", className="smd-wall-stale d-none"),
            html.Div(id=SUMMARY, className="smd-wall-summary"),
            html.Section(
                [html.H2("Needs attention", className="smd-wall-h"), html.Div(id=PROBLEMS)],
                **{"aria-label": "Failed and late jobs"},
            ),
            html.Section(
                [html.H2("Healthy", className="smd-wall-h"), html.Div(id=HEALTHY)],
                **{"aria-label": "Other jobs"},
            ),
        ],
        id=ROOT,
        className="smd-wall-screen",
        **{"data-bs-theme": "dark", "data-smd-kiosk": "true"},
    )


def stale_banner(message: str | None) -> tuple[list[Any], str]:
    """The staleness warning (children, class): hidden when the data is current."""
    if not message:
        return [], "smd-wall-stale d-none"
    return [icon("exclamation-triangle-fill", "me-3"), html.Span(message)], "smd-wall-stale"


def summary(total: Totals, range_label: str) -> list[Any]:
    """Counts in large type, each with its icon and word."""
    items = [
        ("failed", "Failed", total.failed, "x-octagon-fill"),
        ("late", "Late", total.late, "alarm-fill"),
        ("running", "Running", total.running, "arrow-repeat"),
        ("succeeded", "OK", total.succeeded, "check-circle-fill"),
    ]
    blocks = [
        html.Div(
            [
                html.Span(str(n), className="smd-wall-n"),
                " ",  # read as "1 Failed", not "1Failed"
                html.Span([icon(icon_name, "me-2"), label], className="smd-wall-label"),
            ],
            className=f"smd-wall-count smd-wall-count--{key}" + (" is-zero" if n == 0 else ""),
        )
        for key, label, n, icon_name in items
    ]
    rate = total.success_rate
    blocks.append(
        html.Div(
            [
                html.Span("–" if rate is None else f"{rate * 100:.0f}%", className="smd-wall-n"),
                " ",
                html.Span(f"success · {range_label}", className="smd-wall-label"),
            ],
            className="smd-wall-count smd-wall-count--rate",
        )
    )
    return blocks


def problem_tile(card: JobCard, now: datetime) -> html.Article:
    """A failed or late job: big name, state, since when, and the error's first line."""
    label, _tone, icon_name = STATUS_BADGES[card.status]
    run = card.job.last_run
    lines: list[Any] = []
    if card.status == "late" and card.sla is not None:
        if card.job.last_success_at is None:
            lines.append(f"Never succeeded · due every {span(card.sla.interval_s)}")
        else:
            lines.append(
                html.Span(
                    [
                        "Last success ",
                        time_ago(card.job.last_success_at, now),
                        f" · due every {span(card.sla.interval_s)}",
                    ]
                )
            )
    if run is not None:
        lines.append(html.Span([f"{run.state.title()} ", time_ago(run.started_at, now)]))
        if card.status == "failed" and run.error_message:
            first = run.error_message.strip().splitlines()[0]
            lines.append(html.Span(first[:160], className="smd-wall-error"))
    return html.Article(
        [
            html.Div(
                [icon(icon_name, "me-2"), label],
                className=f"smd-wall-state smd-wall-state--{card.status}",
            ),
            html.H3(card.name, className="smd-wall-job"),
            *[html.P(line, className="smd-wall-line") for line in lines],
        ],
        className=f"smd-wall-tile smd-wall-tile--{card.status}",
    )


def problems(cards: list[JobCard], now: datetime, *, syncing: bool = False) -> list[Any]:
    """Failed and late jobs, failed first; or a large all-clear, which waits (calmly) for
    the first full read of the runs: before it, "nothing late" is not known either."""
    if not cards and syncing:
        return [
            html.P(
                [icon("hourglass-split", "me-3"), SYNCING_TEXT],
                className="smd-wall-clear smd-wall-syncing",
            )
        ]
    if not cards:
        return [
            html.P(
                [icon("check-circle-fill", "me-3"), "No failed or late jobs"],
                className="smd-wall-clear",
            )
        ]
    shown = [problem_tile(c, now) for c in cards[:MAX_PROBLEMS]]
    more = len(cards) - len(shown)
    grid = [html.Div(shown, className="smd-wall-grid")]
    if more > 0:
        grid.append(html.P(f"…and {more} more", className="smd-wall-more"))
    return grid


def healthy(cards: list[JobCard], now: datetime) -> list[Any]:
    """Other jobs as compact chips: state word and how long ago they last ran."""
    if not cards:
        return [html.P("No other jobs", className="smd-wall-line")]
    chips = []
    for card in cards[:MAX_HEALTHY]:
        label, _tone, icon_name = STATUS_BADGES[card.status]
        run = card.job.last_run
        when: Any = time_ago(run.started_at, now) if run else "never ran"
        if run is None and card.status == "syncing":
            when = "not collected yet"
        extra: list[Any] = []
        if run is not None and run.completed_at is None:
            extra = [f" · {duration((now - run.started_at).total_seconds())}"]
        chips.append(
            html.Li(
                [
                    html.Span([icon(icon_name, "me-2"), label], className="smd-wall-chip-state"),
                    html.Span(card.name, className="smd-wall-chip-name"),
                    html.Span([when, *extra], className="smd-wall-chip-when"),
                ],
                className=f"smd-wall-chip smd-wall-chip--{card.status}",
            )
        )
    items: list[Any] = [html.Ul(chips, className="smd-wall-chips")]
    if len(cards) > MAX_HEALTHY:
        items.append(html.P(f"…and {len(cards) - MAX_HEALTHY} more", className="smd-wall-more"))
    return items
