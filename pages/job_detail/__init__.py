"""The job detail page: its layout, its callbacks and what the navbar says about it."""

from pages.job_detail import callbacks, layout
from pages.spec import PageSpec

PAGE = PageSpec(
    module="pages.job_detail",
    path=layout.PATH,
    path_template=layout.PATH_TEMPLATE,
    name=layout.NAME,
    icon="gear-wide-connected",
    description="One Glue job: runs over time, run history, and each run's details.",
    layout=layout.layout,
    in_nav=False,
    register=callbacks.register,
)
