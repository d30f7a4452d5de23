"""The pipelines page: its layout, its callbacks and what the navbar says about it."""

from pages.pipelines import callbacks, layout
from pages.spec import PageSpec

PAGE = PageSpec(
    module="pages.pipelines",
    path=layout.PATH,
    name=layout.NAME,
    icon="diagram-3",
    description="Datasets, where their files land, and the Glue jobs that ingest them.",
    layout=layout.layout,
    register=callbacks.register,
)
