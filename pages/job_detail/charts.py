"""The job detail page's charts: duration, rows, DPU cost and failures per run, with text.

Each figure has a text alternative (its range and failures in words) so a screen reader
or a glance at a wall gets the same facts; failed runs are marked with a symbol, never
colour alone. Pure functions of the run series, so tests call them directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import plotly.graph_objects as go

from dashapp.clock import iso_z
from dashapp.queries import job_detail as job_detail_reads
from dashapp.queries import runs, sla
from dashapp.web.humanize import duration, money

FAILED_COLOUR = "#d62728"
OK_COLOUR = "#1f77b4"
SECOND_COLOUR = "#2ca02c"


def _layout(dark: bool, y_title: str, window: tuple[datetime, datetime] | None) -> dict[str, Any]:
    ink = "#dee2e6" if dark else "#212529"
    grid = "#495057" if dark else "#dee2e6"
    return {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": ink, "size": 12},
        "margin": {"l": 56, "r": 12, "t": 8, "b": 40},
        "xaxis": {
            "gridcolor": grid,
            "title": {"text": "Run start (UTC)"},
            # The whole range, so an empty stretch reads as "no runs then", not zoomed away.
            **({"range": [window[0], window[1]]} if window else {}),
        },
        "yaxis": {"gridcolor": grid, "title": {"text": y_title}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "hovermode": "closest",
    }


def _failed(p: job_detail_reads.SeriesPoint) -> bool:
    return p.state in runs.FAILED_STATES


def _series(
    points: Sequence[job_detail_reads.SeriesPoint], value: Any, name: str, colour: str
) -> list[go.Scatter]:
    """A line of the value per run plus failed runs marked with a red cross on top."""
    xs = [p.started_at for p in points]
    ys = [value(p) for p in points]
    ids = [p.run_id for p in points]
    traces = [
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines+markers",
            name=name,
            line={"color": colour, "width": 1.5},
            marker={"size": 5},
            customdata=ids,
            hovertemplate="%{customdata}<br>%{x|%Y-%m-%d %H:%M:%S}Z<br>%{y}<extra>"
            + name
            + "</extra>",
        )
    ]
    return traces


def _failures(points: Sequence[job_detail_reads.SeriesPoint], value: Any) -> go.Scatter:
    bad = [p for p in points if _failed(p)]
    return go.Scatter(
        x=[p.started_at for p in bad],
        y=[value(p) or 0 for p in bad],
        mode="markers",
        name="Failed run",
        marker={"symbol": "x", "size": 11, "color": FAILED_COLOUR, "line": {"width": 1}},
        customdata=[p.run_id for p in bad],
        hovertemplate="Failed: %{customdata}<br>%{x|%Y-%m-%d %H:%M:%S}Z<extra></extra>",
    )


def chart_figures(
    points: Sequence[job_detail_reads.SeriesPoint],
    dpu_hour_price: float,
    currency: str,
    dark: bool,
    window: tuple[datetime, datetime] | None = None,
) -> dict[str, go.Figure]:
    """The three charts: duration, rows read/written, DPU-seconds (cost on hover)."""
    duration_fig = go.Figure(
        [*_series(points, lambda p: p.duration_s, "Duration (s)", OK_COLOUR)],
        layout=_layout(dark, "Seconds", window),
    )
    duration_fig.add_trace(_failures(points, lambda p: p.duration_s))
    rows_fig = go.Figure(
        [
            *_series(points, lambda p: p.rows_read, "Rows read", OK_COLOUR),
            *_series(points, lambda p: p.rows_written, "Rows written", SECOND_COLOUR),
        ],
        layout=_layout(dark, "Rows", window),
    )
    rows_fig.add_trace(_failures(points, lambda p: p.rows_read))
    costs = [sla.cost(p.dpu_seconds, dpu_hour_price) for p in points]
    dpu_fig = go.Figure(
        [
            go.Bar(
                x=[p.started_at for p in points],
                y=[p.dpu_seconds for p in points],
                name="DPU-seconds",
                marker={"color": [FAILED_COLOUR if _failed(p) else OK_COLOUR for p in points]},
                customdata=[[p.run_id, c or 0.0] for p, c in zip(points, costs, strict=True)],
                hovertemplate="%{customdata[0]}<br>%{y:,.0f} DPU-s · %{customdata[1]:.4f} "
                + currency
                + "<extra></extra>",
            )
        ],
        layout=_layout(dark, "DPU-seconds", window),
    )
    dpu_fig.add_trace(_failures(points, lambda p: p.dpu_seconds))
    return {"duration": duration_fig, "rows": rows_fig, "dpu": dpu_fig}


def _range_text(values: Sequence[float], fmt: Any) -> str:
    if not values:
        return "no values recorded"
    return f"from {fmt(min(values))} to {fmt(max(values))}, median {fmt(sla.median(values) or 0)}"


def chart_summaries(
    points: Sequence[job_detail_reads.SeriesPoint],
    dpu_hour_price: float,
    currency: str,
    truncated: bool,
) -> dict[str, str]:
    """Each chart's text alternative: what a sighted user reads off it."""
    if not points:
        text = "No runs in this time range."
        return {"duration": text, "rows": text, "dpu": text}
    failed = [p.run_id for p in points if _failed(p)]
    head = (
        f"{len(points)} runs{' (the latest ones)' if truncated else ''} between "
        f"{iso_z(points[0].started_at)} and {iso_z(points[-1].started_at)}; "
        + (
            f"{len(failed)} failed ({', '.join(failed[:5])}{'…' if len(failed) > 5 else ''}). "
            if failed
            else "none failed. "
        )
    )
    durations = [p.duration_s for p in points if p.duration_s is not None]
    read = [float(p.rows_read) for p in points if p.rows_read is not None]
    written = [float(p.rows_written) for p in points if p.rows_written is not None]
    dpu = [p.dpu_seconds for p in points if p.dpu_seconds is not None]
    total_cost = sla.cost(sum(dpu), dpu_hour_price) if dpu else None
    return {
        "duration": head + "Duration " + _range_text(durations, duration) + ".",
        "rows": head
        + "Rows read "
        + _range_text(read, lambda v: f"{v:,.0f}")
        + "; rows written "
        + _range_text(written, lambda v: f"{v:,.0f}")
        + ".",
        "dpu": head
        + "DPU-seconds "
        + _range_text(dpu, lambda v: f"{v:,.0f}")
        + f"; total cost {money(total_cost, currency)}.",
    }
