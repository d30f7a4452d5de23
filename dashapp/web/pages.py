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

from layouts import audit as audit_page
from layouts import failures as failures_page
from layouts import job_detail as job_detail_page
from layouts import lambda_monitor, logs, not_found_404, pipelines, system
from layouts import overview as overview_page
from layouts import upload as upload_page
from layouts import uploads as uploads_page
from layouts import wall as wall_page

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
    # e.g. "/jobs/<job_name>": the layout receives job_name; `path` is then its prefix.
    path_template: str | None = None
    # A kiosk page (the wall screen) renders without the navbar, for a screen nobody touches.
    kiosk: bool = False

    @property
    def title(self) -> str:
        return page_title(self.name)

    def matches(self, path: str) -> bool:
        """Whether a request path ('/jobs/x', '/wall') is served by this page."""
        wanted = "/" + path.strip("/")
        if self.path_template is None:
            return wanted == self.path
        prefix = self.path_template.split("<", 1)[0].rstrip("/")
        rest = wanted[len(prefix) :]
        return (
            wanted.startswith(prefix + "/") and "/" not in rest.strip("/") and bool(rest.strip("/"))
        )


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        module="layouts.overview",
        path=overview_page.PATH,
        name=overview_page.NAME,
        icon="grid-1x2",
        description="Every Glue job as a card: state, last run, success rate, cost, SLA.",
        layout=overview_page.layout,
    ),
    PageSpec(
        module="layouts.job_detail",
        path=job_detail_page.PATH,
        path_template=job_detail_page.PATH_TEMPLATE,
        name=job_detail_page.NAME,
        icon="gear-wide-connected",
        description="One Glue job: runs over time, run history, and each run's details.",
        layout=job_detail_page.layout,
        in_nav=False,
    ),
    PageSpec(
        module="layouts.wall",
        path=wall_page.PATH,
        name=wall_page.NAME,
        icon="display",
        description="Failed and late jobs in large type, for a screen across the room.",
        layout=wall_page.layout,
        kiosk=True,
    ),
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
    PageSpec(
        module="layouts.lambda_monitor",
        path=lambda_monitor.PATH,
        name=lambda_monitor.NAME,
        icon="lightning-charge",
        description="Lambda invocations, errors, duration percentiles, throttles and concurrency.",
        layout=lambda_monitor.layout,
    ),
    PageSpec(
        module="layouts.logs",
        path=logs.PATH,
        name=logs.NAME,
        icon="journal-text",
        description="Glue run and Lambda function logs: live tail, search, level filter, download.",
        layout=logs.layout,
    ),
    PageSpec(
        module="layouts.upload",
        path=upload_page.PATH,
        name=upload_page.NAME,
        icon="cloud-arrow-up",
        description="Upload CSV or JSON files into a dataset and follow each one to its run.",
        layout=upload_page.layout,
    ),
    PageSpec(
        module="layouts.uploads",
        path=uploads_page.PATH,
        name=uploads_page.NAME,
        icon="clock-history",
        description="Every upload: filter by dataset, status, user and time; export as CSV.",
        layout=uploads_page.layout,
    ),
    PageSpec(
        module="layouts.failures",
        path=failures_page.PATH,
        name=failures_page.NAME,
        icon="exclamation-octagon",
        description="Failed runs across jobs: errors, attempts, auto-retry; re-run many at once.",
        layout=failures_page.layout,
    ),
    PageSpec(
        module="layouts.audit",
        path=audit_page.PATH,
        name=audit_page.NAME,
        icon="shield-check",
        description="Who did what, to which target, how it ended and when (admins).",
        layout=audit_page.layout,
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
