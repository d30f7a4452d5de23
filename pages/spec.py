"""What a page is: its address, its navbar entry, its layout and its callbacks, together.

Each page package (`pages/<page>/__init__.py`) declares one `PageSpec` naming both
halves, so a page cannot be served without its callbacks or the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dash import Dash

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
    # The page's `callbacks.register(app)`; None for a page that only lays out.
    register: Callable[[Dash], None] | None = None
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
