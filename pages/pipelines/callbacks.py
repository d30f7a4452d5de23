"""Callbacks of the Pipelines page: re-read job summaries on the refresh timer.

A failed query replaces the cards with the reason rather than failing the
callback, which would leave stale cards on screen with nothing saying so.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output
from sqlalchemy.exc import SQLAlchemyError

from dashapp.db import db_error_line
from dashapp.queries import job_summaries
from dashapp.services import Services, services
from layouts import shell
from layouts.components import database_unreachable
from pages.pipelines import layout as pipelines


def pipeline_cards(svc: Services) -> list[Any]:
    """Every dataset's card as of the services' clock, from configuration plus database."""
    settings = svc.settings
    now = svc.clock.now()
    try:
        with svc.sessions() as session:
            summaries = job_summaries.job_summaries(
                session, (d.glue_job for d in settings.datasets)
            )
            collected = job_summaries.glue_jobs_collected(session)
    except SQLAlchemyError as e:
        return [database_unreachable(db_error_line(e))]
    buckets = {d.name: settings.dataset_bucket(d) for d in settings.datasets}
    return pipelines.dataset_cards(settings.datasets, buckets, summaries, collected, now)


def register(app: Dash) -> None:
    """Refill the cards on every tick of the shared timer while the page is shown."""

    @app.callback(Output(pipelines.CARDS, "children"), Input(shell.REFRESH, "n_intervals"))
    def _cards(_n: int | None) -> list[Any]:
        return pipeline_cards(services())
