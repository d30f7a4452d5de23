"""The failures page: its layout, its callbacks and what the navbar says about it."""

from pages.failures import callbacks, layout
from pages.spec import PageSpec

PAGE = PageSpec(
    module="pages.failures",
    path=layout.PATH,
    name=layout.NAME,
    icon="exclamation-octagon",
    description="Failed runs across jobs: errors, attempts, auto-retry; re-run many at once.",
    layout=layout.layout,
    register=callbacks.register,
)
