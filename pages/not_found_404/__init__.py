"""The page for unknown paths; Dash serves the page whose module ends in `not_found_404`."""

from pages.not_found_404 import layout
from pages.spec import PageSpec

PAGE = PageSpec(
    module="pages.not_found_404",
    path=layout.PATH,
    name=layout.NAME,
    icon="signpost-split",
    description="There is no page at this address.",
    layout=layout.layout,
    in_nav=False,
)
