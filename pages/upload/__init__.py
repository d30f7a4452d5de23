"""The upload page: its layout, its callbacks and what the navbar says about it."""

from pages.spec import PageSpec
from pages.upload import callbacks, layout

PAGE = PageSpec(
    module="pages.upload",
    path=layout.PATH,
    name=layout.NAME,
    icon="cloud-arrow-up",
    description="Upload CSV or JSON files into a dataset and follow each one to its run.",
    layout=layout.layout,
    register=callbacks.register,
)
