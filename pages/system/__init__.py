"""The system page: its layout, its callbacks and what the navbar says about it."""

from pages.spec import PageSpec
from pages.system import callbacks, layout

PAGE = PageSpec(
    module="pages.system",
    path=layout.PATH,
    name=layout.NAME,
    icon="activity",
    description="Collector health, database schema and effective configuration.",
    layout=layout.layout,
    register=callbacks.register,
)
