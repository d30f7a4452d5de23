"""The Athena workbench: its layout, its callbacks and what the navbar says about it."""

from pages.athena import callbacks, layout
from pages.spec import PageSpec

PAGE = PageSpec(
    module="pages.athena",
    path=layout.PATH,
    name=layout.NAME,
    icon="terminal",
    description="Run SQL over the processed data: cost first, cancel for real, page and download.",
    layout=layout.layout,
    register=callbacks.register,
)
