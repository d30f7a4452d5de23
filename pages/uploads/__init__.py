"""The uploads page: its layout, its callbacks and what the navbar says about it."""

from pages.spec import PageSpec
from pages.uploads import callbacks, layout

PAGE = PageSpec(
    module="pages.uploads",
    path=layout.PATH,
    name=layout.NAME,
    icon="clock-history",
    description="Every upload: filter by dataset, status, user and time; export as CSV.",
    layout=layout.layout,
    register=callbacks.register,
)
