"""Where an upload lands: `<prefix><yyyy>/<mm>/<dd>/<uuid>-<sanitised name>`.

The date partitions keep listings of a busy prefix cheap and let Athena and
lifecycle rules work by day; the uuid makes two uploads of `orders.csv` on the
same day two objects, never an overwrite. The collector recognises this shape
(`collectors.runs.original_name`) to show the original name of objects it meets
before the web app told it about them.
"""

from __future__ import annotations

import uuid
from datetime import datetime


def object_key(prefix: str, at: datetime, uid: uuid.UUID, safe_name: str) -> str:
    """The key of an upload made at `at` (UTC); `prefix` ends with '/' (see `Dataset`)."""
    if not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}{at:%Y/%m/%d}/{uid}-{safe_name}"


def s3_uri(bucket: str, key: str) -> str:
    """The object as Glue job arguments and the AWS CLI name it."""
    return f"s3://{bucket}/{key}"
