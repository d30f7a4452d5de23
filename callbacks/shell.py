"""Callbacks of the shell: freshness indicator, active nav link, identity, theme.

The freshness indicator re-reads `collector_status` on the shared refresh timer;
its wording is `describe_freshness`, a pure function of the query result and the
services' clock. The theme is switched in the browser (clientside callbacks), so
it costs no request and works while the server is unreachable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from dashapp.actions.auth import current_identity
from dashapp.clock import iso_z
from dashapp.db import db_error_line
from dashapp.queries import system as queries
from dashapp.queries.system import Freshness
from dashapp.services import Services, services
from dashapp.web import shared_answers
from dashapp.web.humanize import ago, clock_utc, span
from layouts import shell
from layouts.shell import FreshnessView

SIGN_OUT = "/auth/logout"


def describe_freshness(freshness: Freshness, now: datetime) -> FreshnessView:
    """The indicator's words for empty, fresh and stale data (icon + text, never colour alone)."""
    if freshness.state == "empty":
        return FreshnessView(
            text="No collector has reported yet",
            title="Pages fill in after the collector's first cycle (python -m collectors)",
            tone="empty",
            icon="hourglass-split",
            announcement="No collector has reported yet.",
        )
    if freshness.as_of is None:
        return FreshnessView(
            text="Stale: no collector has succeeded yet",
            title=_lagging_sentence(freshness),
            tone="stale",
            icon="exclamation-triangle-fill",
            announcement="Warning: no collector has succeeded yet.",
        )
    as_of = f"{clock_utc(freshness.as_of, now)} · {ago(freshness.age_s or 0.0)}"
    exact = iso_z(freshness.as_of)
    if freshness.state == "stale":
        return FreshnessView(
            text=f"Stale: data as of {as_of}",
            title=f"{exact}. {_lagging_sentence(freshness)}",
            tone="stale",
            icon="exclamation-triangle-fill",
            announcement="Warning: the data is stale.",
        )
    return FreshnessView(
        text=f"Data as of {as_of}",
        title=exact,
        tone="fresh",
        icon="check-circle-fill",
        announcement="The data is current.",
    )


def _lagging_sentence(freshness: Freshness) -> str:
    names = ", ".join(c.name for c in freshness.lagging)
    return f"No success within {span(freshness.stale_after_s)}: {names}"


def unreachable_view(message: str) -> FreshnessView:
    """The indicator when the database cannot be read: a warning, never a frozen "as of"."""
    return FreshnessView(
        text="Database unreachable",
        title=message,
        tone="stale",
        icon="x-octagon-fill",
        announcement="Warning: the database is unreachable.",
    )


def freshness_outputs(svc: Services) -> tuple[list[Any], str, str, str]:
    """Children, class, tooltip and screen-reader announcement of the indicator, now."""
    now = svc.clock.now()
    try:
        with svc.sessions() as session:
            found = queries.freshness(session, now, svc.settings.stale_after_s)
    except SQLAlchemyError as e:
        view = unreachable_view(db_error_line(e))
    else:
        view = describe_freshness(found, now)
    return (
        shell.freshness_children(view),
        shell.freshness_class(view),
        view.title,
        view.announcement,
    )


def nav_states(pathname: str | None, hrefs: Sequence[str]) -> tuple[list[str | None], list[str]]:
    """aria-current and class of each nav link: the page's own link is the current one."""
    here = "/" + (pathname or "/").strip("/")
    current = []
    for href in hrefs:
        target = "/" + href.strip("/")
        is_current = here == target or (target != "/" and here.startswith(target + "/"))
        current.append("page" if is_current else None)
    classes = ["nav-link active" if c else "nav-link" for c in current]
    return current, classes


def register(app: Dash) -> None:
    """Wire the shell's callbacks: they run on every page, so they stay light."""

    shared_answers.shareable(app, Output(shell.FRESHNESS, "children"))

    @app.callback(
        Output(shell.FRESHNESS, "children"),
        Output(shell.FRESHNESS, "className"),
        Output(shell.FRESHNESS, "title"),
        Output(shell.FRESHNESS_ANNOUNCE, "children"),
        Input(shell.REFRESH, "n_intervals"),
    )
    def _freshness(_n: int | None) -> tuple[list[Any], str, str, str]:
        return freshness_outputs(services())

    @app.callback(
        Output({"type": shell.NAV_LINK, "index": ALL}, "aria-current"),
        Output({"type": shell.NAV_LINK, "index": ALL}, "className"),
        Input(shell.URL, "pathname"),
        State({"type": shell.NAV_LINK, "index": ALL}, "href"),
    )
    def _nav(pathname: str | None, hrefs: list[str]) -> tuple[list[str | None], list[str]]:
        # One state per link, in order: each output needs its own (a non-text href is no link).
        current, classes = nav_states(
            payload.text(pathname), [payload.text(h) or "" for h in hrefs]
        )
        sizes = [payload.listed(o) for o in ctx.outputs_list]
        return payload.fit(current, sizes[0], None), payload.fit(classes, sizes[1], "nav-link")

    @app.callback(Output(shell.IDENTITY, "children"), Input(shell.URL, "pathname"))
    def _identity(_pathname: str | None) -> list[Any]:
        signs_in = services().settings.auth_mode != "none"
        return shell.identity_children(current_identity(), SIGN_OUT if signs_in else None)

    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="kiosk"),
        Output(shell.HEADER, "hidden"),
        Input(shell.URL, "pathname"),
        State(shell.KIOSK_PATHS, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="toggleTheme"),
        Output(shell.THEME_STORE, "data"),
        Input(shell.THEME_TOGGLE, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="applyTheme"),
        Output(shell.THEME_TOGGLE, "aria-pressed"),
        Output(shell.THEME_TOGGLE, "className"),
        Input(shell.THEME_STORE, "data"),
        State(shell.THEME_TOGGLE, "className"),
    )
