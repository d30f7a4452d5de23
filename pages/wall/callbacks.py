"""Callback of the wall screen: everything on the shared refresh timer, in one request.

One callback (not one per panel) so a wall costs one small request per tick. The
staleness line is `stale_message`, a pure function of `queries.freshness`: the wall
says plainly when it is showing old data, and when the database is unreachable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import Dash, Input, Output, State
from sqlalchemy.exc import SQLAlchemyError

from dashapp.db import db_error_line
from dashapp.queries import cards as job_cards
from dashapp.queries import overview as overview_reads
from dashapp.queries import system as queries
from dashapp.queries.system import Freshness
from dashapp.services import Services, services
from dashapp.timerange import resolve_range
from dashapp.web import shared_answers
from dashapp.web.humanize import ago, clock_utc, span
from layouts import shell
from pages.wall import layout as wall


def stale_message(freshness: Freshness, now: datetime) -> str | None:
    """The banner's words when the data may be old; None when it is current."""
    if freshness.state == "empty":
        return "No data yet: no collector has reported. Start the collector (python -m collectors)."
    if freshness.state == "fresh":
        return None
    names = ", ".join(c.name for c in freshness.lagging)
    if freshness.as_of is None:
        return f"Data may be stale: no collector has succeeded yet ({names})."
    return (
        f"Data is stale: last update {ago(freshness.age_s or 0)} "
        f"({clock_utc(freshness.as_of, now)}); {names} behind by more than "
        f"{span(freshness.stale_after_s)}."
    )


def wall_view(svc: Services, range_value: str | None) -> tuple[Any, ...]:
    """Clock line, stale banner (children, class), counts, problem tiles and healthy chips."""
    settings = svc.settings
    now = svc.clock.now()
    window, _ = resolve_range(range_value, now)
    clock = f"{clock_utc(now, now)}"
    try:
        with svc.sessions() as session:
            fresh = queries.freshness(session, now, settings.stale_after_s)
            jobs = overview_reads.job_overviews(session, *window.bounds, details=False)
            synced = overview_reads.runs_synced(session)
    except SQLAlchemyError as e:
        banner = wall.stale_banner(f"Database unreachable: {db_error_line(e)}")
        return (clock, *banner, [], [], [])
    cards = job_cards.order_cards(
        job_cards.build_cards(jobs, settings.datasets, now, settings.dpu_hour_price, synced=synced)
    )
    bad = [c for c in cards if c.status in ("failed", "late")]
    rest = [c for c in cards if c.status not in ("failed", "late")]
    return (
        clock,
        *wall.stale_banner(stale_message(fresh, now)),
        wall.summary(job_cards.totals(cards), window.label),
        wall.problems(bad, now, syncing=not synced),
        wall.healthy(rest, now),
    )


def register(app: Dash) -> None:
    """Wire the wall: one callback on the shared refresh timer."""
    shared_answers.shareable(app, Output(wall.CLOCK, "children"))

    @app.callback(
        Output(wall.CLOCK, "children"),
        Output(wall.STALE, "children"),
        Output(wall.STALE, "className"),
        Output(wall.SUMMARY, "children"),
        Output(wall.PROBLEMS, "children"),
        Output(wall.HEALTHY, "children"),
        Input(shell.REFRESH, "n_intervals"),
        State(wall.RANGE, "data"),
    )
    def _wall(_n: int | None, range_value: str | None) -> tuple[Any, ...]:
        return wall_view(services(), range_value)
