"""The page for addresses that match no page: say so and offer the way back.

Dash's router serves the registered page whose module name ends in
`not_found_404` for unknown paths, in place of its bare "404" heading.
"""

from __future__ import annotations

from dash import html

from layouts.components import icon
from layouts.shell import spa_link
from pages import links

PATH = links.NOT_FOUND
NAME = "Page not found"


def layout(**_query: str) -> html.Div:
    """A heading, a sentence and the way home."""
    return html.Div(
        [
            html.H1(NAME, className="h2"),
            html.P("There is no page at this address. It may have moved, or the link is mistyped."),
            html.P(spa_link([icon("arrow-left", "me-1"), "Back to Pipelines"], "/")),
        ]
    )
