"""The access page: who is signed in, and the admin's controls over it."""

from pages.access import callbacks, layout
from pages.spec import PageSpec

PAGE = PageSpec(
    module="pages.access",
    path=layout.PATH,
    name=layout.NAME,
    icon="person-lock",
    description="Signed-in sessions and wall screens, and revoking them (admins).",
    layout=layout.layout,
    register=callbacks.register,
)
