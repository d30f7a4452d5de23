"""The audit page: its layout, its callbacks and what the navbar says about it."""

from pages.audit import callbacks, layout
from pages.spec import PageSpec

PAGE = PageSpec(
    module="pages.audit",
    path=layout.PATH,
    name=layout.NAME,
    icon="shield-check",
    description="Who did what, to which target, how it ended and when (admins).",
    layout=layout.layout,
    register=callbacks.register,
)
