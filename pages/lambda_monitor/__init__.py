"""The lambda monitor page: its layout, its callbacks and what the navbar says about it."""

from pages.lambda_monitor import callbacks, layout
from pages.spec import PageSpec

PAGE = PageSpec(
    module="pages.lambda_monitor",
    path=layout.PATH,
    name=layout.NAME,
    icon="lightning-charge",
    description="Lambda invocations, errors, duration percentiles, throttles and concurrency.",
    layout=layout.layout,
    register=callbacks.register,
)
