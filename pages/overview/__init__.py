"""The overview page: its layout, its callbacks and what the navbar says about it."""

from pages.overview import callbacks, layout
from pages.spec import PageSpec

PAGE = PageSpec(
    module="pages.overview",
    path=layout.PATH,
    name=layout.NAME,
    icon="grid-1x2",
    description="Every Glue job as a card: state, last run, success rate, cost, SLA.",
    layout=layout.layout,
    register=callbacks.register,
)
