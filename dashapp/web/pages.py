"""The pages the app serves, declared once: registry, navbar and tab titles read this list.

Pages are registered explicitly (no `pages/` folder scan), so what is served is
exactly what is listed here. Register only pages that work; later features add
their `PageSpec` to `PAGES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dash

from layouts import not_found_404, pipelines, system

APP_TITLE = "Serverless Management Dashboard"


def page_title(name: str) -> str:
    """The browser tab title of a page: '<Page> · Serverless Management Dashboard'."""
    return f"{name} · {APP_TITLE}"


@dataclass(frozen=True)
class PageSpec:
    """One page: where it lives, what the navbar calls it, and the function that lays it out."""

    module: str
    path: str
    name: str
    icon: str
    description: str
    layout: Callable[..., Any]
    in_nav: bool = True

    @property
    def title(self) -> str:
        return page_title(self.name)


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        module="layouts.pipelines",
        path=pipelines.PATH,
        name=pipelines.NAME,
        icon="diagram-3",
        description="Datasets, where their files land, and the Glue jobs that ingest them.",
        layout=pipelines.layout,
    ),
    PageSpec(
        module="layouts.system",
        path=system.PATH,
        name=system.NAME,
        icon="activity",
        description="Collector health, database schema and effective configuration.",
        layout=system.layout,
    ),
)

# Dash serves the page whose module ends in `not_found_404` for unknown paths.
NOT_FOUND = PageSpec(
    module="layouts.not_found_404",
    path=not_found_404.PATH,
    name=not_found_404.NAME,
    icon="signpost-split",
    description="There is no page at this address.",
    layout=not_found_404.layout,
    in_nav=False,
)


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
            layout=page.layout,
        )


def title_for_path(path: str, pages: tuple[PageSpec, ...] = PAGES) -> str:
    """The tab title for a request path (without the app prefix), as Dash's router will set it."""
    wanted = "/" + path.strip("/")
    for page in pages:
        if page.path == wanted:
            return page.title
    return NOT_FOUND.title
