"""Callbacks of the System status page.

Collectors refresh on the shared timer; the database panel and the configuration
are read once per visit (they change with deployments, not by the second), which
also keeps a viewer's denied configuration request to one audit entry per visit.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output
from sqlalchemy.exc import SQLAlchemyError

from dashapp.actions.auth import require
from dashapp.db import db_error_line
from dashapp.identity import Forbidden, Role
from dashapp.queries import system as queries
from dashapp.services import Services, services
from layouts import shell
from layouts.components import database_unreachable
from pages.system import layout as system


def collectors_view(svc: Services) -> Any:
    """The collector table as of the services' clock (or why the database cannot say)."""
    now = svc.clock.now()
    try:
        with svc.sessions() as session:
            statuses = queries.collector_statuses(session)
    except SQLAlchemyError as e:
        return database_unreachable(db_error_line(e))
    return system.collectors_table(statuses, now, svc.settings.stale_after_s)


def database_view(svc: Services) -> Any:
    """Backend and schema revision, asked of the database itself."""
    try:
        info = queries.database_info(svc.engine)
    except SQLAlchemyError as e:
        return database_unreachable(db_error_line(e))
    return system.database_panel(info)


def configuration_view(svc: Services) -> Any:
    """The redacted configuration for admins; for anyone else, which role it needs."""
    try:
        require(Role.admin, "view_configuration", target=system.PATH)
    except Forbidden as e:
        return system.configuration_denied(str(e))
    return system.configuration_table(svc.settings.redacted())


def register(app: Dash) -> None:
    """Collectors on the timer; database and configuration once per visit."""

    @app.callback(Output(system.COLLECTORS, "children"), Input(shell.REFRESH, "n_intervals"))
    def _collectors(_n: int | None) -> Any:
        return collectors_view(services())

    @app.callback(Output(system.DATABASE, "children"), Input(shell.URL, "pathname"))
    def _database(_pathname: str | None) -> Any:
        return database_view(services())

    @app.callback(Output(system.CONFIGURATION, "children"), Input(shell.URL, "pathname"))
    def _configuration(_pathname: str | None) -> Any:
        return configuration_view(services())
