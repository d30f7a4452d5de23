"""The logs page: its layout, its callbacks and what the navbar says about it."""

from pages.logs import callbacks, layout
from pages.spec import PageSpec

PAGE = PageSpec(
    module="pages.logs",
    path=layout.PATH,
    name=layout.NAME,
    icon="journal-text",
    description="Glue run and Lambda function logs: live tail, search, level filter, download.",
    layout=layout.layout,
    register=callbacks.register,
)
