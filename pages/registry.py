"""The one registry of pages: what is served, in navbar order, with its callbacks.

Pages are registered explicitly (no folder scan), so what is served is exactly what
is listed here; each entry names its layout and its callbacks together (`PageSpec`).
Callbacks shared by several pages (the shell and the job-action dialog) are
registered once, by `register_callbacks`.
"""

from __future__ import annotations

import dash
from dash import Dash

import callbacks.job_actions
import callbacks.shell
from callbacks import payload
from pages import (
    access,
    athena,
    audit,
    failures,
    job_detail,
    lambda_monitor,
    logs,
    not_found_404,
    overview,
    pipelines,
    system,
    upload,
    uploads,
    wall,
)
from pages.spec import APP_TITLE, PageSpec, page_title

__all__ = ["APP_TITLE", "NOT_FOUND", "PAGES", "PageSpec", "page_title"]

PAGES: tuple[PageSpec, ...] = (
    overview.PAGE,
    job_detail.PAGE,
    wall.PAGE,
    pipelines.PAGE,
    system.PAGE,
    lambda_monitor.PAGE,
    logs.PAGE,
    athena.PAGE,
    upload.PAGE,
    uploads.PAGE,
    failures.PAGE,
    audit.PAGE,
    access.PAGE,
)

# Dash serves the page whose module ends in `not_found_404` for unknown paths.
NOT_FOUND = not_found_404.PAGE


def register_pages(pages: tuple[PageSpec, ...] = PAGES) -> None:
    """Add the pages (and the 404 page) to Dash's page registry.

    Call right after constructing the `Dash` app: Dash keeps its registry per
    process, so re-registering the same list for another app overwrites, never adds.
    """
    for order, page in enumerate((*pages, NOT_FOUND)):
        dash.register_page(
            page.module,
            path=page.path,
            name=page.name,
            title=page.title,
            description=page.description,
            order=order,
            layout=payload.narrowed_layout(page.layout),
            **({"path_template": page.path_template} if page.path_template else {}),
        )


def title_for_path(path: str, pages: tuple[PageSpec, ...] = PAGES) -> str:
    """The tab title for a request path (without the app prefix), as Dash's router will set it."""
    for page in pages:
        if page.matches(path):
            return page.title
    return NOT_FOUND.title


def kiosk_paths(pages: tuple[PageSpec, ...] = PAGES) -> tuple[str, ...]:
    """Paths of the pages shown without the navbar (the shell hides it there)."""
    return tuple(page.path for page in pages if page.kiosk)


def register_callbacks(app: Dash, pages: tuple[PageSpec, ...] = PAGES) -> None:
    """Wire the shared callbacks (the shell, the job-action dialog), then each page's own."""
    callbacks.shell.register(app)
    callbacks.job_actions.register(app)
    for page in pages:
        if page.register is not None:
            page.register(app)
