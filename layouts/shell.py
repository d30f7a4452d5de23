"""The static shell around every page: skip link, header with navbar, main, stores, timers.

This is `app.layout`, served to anyone before sign-in, so it holds no data: the
freshness indicator, the signed-in identity and the active link are filled by
callbacks (callbacks/shell.py). Landmarks (banner, navigation, main) and a skip
link make it usable by keyboard and screen reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import dash
from dash import dcc, html

from layouts.components import icon

if TYPE_CHECKING:
    from dashapp.identity import Identity

SKIP_LINK = "smd-skip-link"
HEADER = "smd-header"
NAV = "smd-nav"
BRAND = "smd-brand"
NAV_LINK = "smd-nav-link"  # pattern-matching type: {"type": NAV_LINK, "index": <path>}
MAIN = "main-content"
FRESHNESS = "smd-freshness"
FRESHNESS_ANNOUNCE = "smd-freshness-announce"
IDENTITY = "smd-identity"
THEME_TOGGLE = "smd-theme-toggle"
THEME_STORE = "smd-theme"  # also the localStorage key read by the pre-paint script
REFRESH = "smd-refresh"
URL = "smd-url"
KIOSK_PATHS = "smd-kiosk-paths"  # store: paths of the kiosk pages, where the header hides

THEME_TOGGLE_CLASS = "btn btn-sm smd-theme-toggle"


class NavPage(Protocol):
    """What the shell reads of a page; `pages.spec.PageSpec` has it. A protocol rather than an
    import, because the pages build on these shared layouts, not the other way round."""

    @property
    def path(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def icon(self) -> str: ...
    @property
    def in_nav(self) -> bool: ...
    @property
    def kiosk(self) -> bool: ...


FreshnessTone = Literal["pending", "empty", "fresh", "stale"]


@dataclass(frozen=True)
class FreshnessView:
    """What the "data as of" indicator says: visible text, tooltip, tone and announcement."""

    text: str
    title: str
    tone: FreshnessTone
    icon: str
    announcement: str


PENDING = FreshnessView(
    text="Checking data freshness…",
    title="Reading the collectors' status from the database",
    tone="pending",
    icon="hourglass-split",
    announcement="",
)


def nav_link_id(path: str) -> dict[str, str]:
    """Pattern-matching id of a nav link, so one callback marks the current page."""
    return {"type": NAV_LINK, "index": path}


def spa_link(children: Any, href: str, **attrs: Any) -> html.A:
    """A real link that assets/smd-links.js follows without a page reload (like dcc.Link)."""
    return html.A(children, href=href, **{"data-smd-link": "true"}, **attrs)


def freshness_children(view: FreshnessView) -> list[Any]:
    """Icon then words: the state reads without colour."""
    return [icon(view.icon, "smd-freshness-icon"), html.Span(view.text)]


def freshness_class(view: FreshnessView) -> str:
    """The tone as a CSS modifier (assets/smd-shell.css), so both themes style it."""
    return f"smd-freshness smd-freshness--{view.tone}"


def freshness_indicator(view: FreshnessView = PENDING) -> html.Div:
    """The "data as of" pill; pending until its callback first answers."""
    return html.Div(
        freshness_children(view),
        id=FRESHNESS,
        className=freshness_class(view),
        title=view.title,
    )


def identity_children(identity: Identity, sign_out: str | None = None) -> list[Any]:
    """Who is signed in and their role; with `sign_out` (the sign-out URL) a button that
    POSTs there (a form, so it works without script and never as a GET a link could fake)."""
    children: list[Any] = [
        icon("person-circle", "me-1"),
        html.Span(identity.label, className="smd-identity-name"),
        html.Span(
            identity.role.name,
            className="badge rounded-pill text-bg-secondary ms-2 smd-role",
            title=f"Role: {identity.role.name}",
        ),
    ]
    if sign_out:
        children.append(
            html.Form(
                html.Button(
                    "Sign out", type="submit", className="btn btn-sm btn-outline-secondary ms-2"
                ),
                action=sign_out,
                method="post",
                className="d-inline smd-sign-out",
            )
        )
    return children


def theme_toggle() -> html.Button:
    """A pressed/unpressed "Dark mode" button; callbacks keep aria-pressed and the theme in step."""
    return html.Button(
        [icon("moon-stars", "me-1"), html.Span("Dark mode")],
        id=THEME_TOGGLE,
        type="button",
        className=THEME_TOGGLE_CLASS,
        **{"aria-pressed": "false"},
    )


def navbar(pages: Sequence[NavPage]) -> html.Nav:
    """Brand, page links, then status (freshness, identity, theme) pushed to the right."""
    links = [
        html.Li(
            spa_link(
                [icon(page.icon, "me-1"), page.name],
                page.path,
                id=nav_link_id(page.path),
                className="nav-link",
            ),
            className="nav-item",
        )
        for page in pages
        if page.in_nav
    ]
    return html.Nav(
        html.Div(
            [
                spa_link(
                    [icon("lightning-charge-fill", "me-2"), "Serverless Management Dashboard"],
                    "/",
                    id=BRAND,
                    className="navbar-brand",
                ),
                html.Ul(links, className="navbar-nav me-auto"),
                html.Div(
                    [
                        freshness_indicator(),
                        html.Span(id=IDENTITY, className="smd-identity"),
                        theme_toggle(),
                    ],
                    className="smd-status d-flex flex-wrap align-items-center gap-3 ms-auto",
                ),
            ],
            className="container-fluid px-4 flex-wrap gap-2",
        ),
        id=NAV,
        className="navbar navbar-expand smd-navbar",
        **{"aria-label": "Main"},
    )


def shell_layout(pages: Sequence[NavPage], refresh_interval_s: int) -> html.Div:
    """The whole static layout; `refresh_interval_s` paces every page's re-read of the database."""
    return html.Div(
        [
            html.A(
                "Skip to main content",
                href=f"#{MAIN}",
                id=SKIP_LINK,
                className="smd-skip-link visually-hidden-focusable",
            ),
            html.Header(navbar(pages), id=HEADER, className="smd-header"),
            html.Main(
                dash.page_container,
                id=MAIN,
                tabIndex="-1",
                className="container-fluid px-4 flex-grow-1 py-4",
            ),
            html.Div(id=FRESHNESS_ANNOUNCE, role="status", className="visually-hidden"),
            dcc.Location(id=URL),
            dcc.Store(id=THEME_STORE, storage_type="local"),
            dcc.Store(id=KIOSK_PATHS, data=[page.path for page in pages if page.kiosk]),
            dcc.Interval(id=REFRESH, interval=refresh_interval_s * 1000),
        ],
        className="smd-shell d-flex flex-column min-vh-100",
    )
