"""The wall page: its layout, its callbacks and what the navbar says about it."""

from pages.spec import PageSpec
from pages.wall import callbacks, layout

PAGE = PageSpec(
    module="pages.wall",
    path=layout.PATH,
    name=layout.NAME,
    icon="display",
    description="Failed and late jobs in large type, for a screen across the room.",
    layout=layout.layout,
    kiosk=True,
    register=callbacks.register,
)
