"""What people do on the demo besides watching: uploads through the upload API, CSV exports.

An upload goes the way the upload page's script sends it: the check (POST /api/uploads
with the first bytes as a sample), the file straight to S3 with the presigned POST it
was handed, then POST /api/uploads/<id>/complete; the sandbox's EventBridge rule
then starts the dataset's Glue job, so uploads also feed the collectors. Exports
are read to the end, as a download is.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field

import aiohttp

from dashapp.actions.uploads.sniff import SAMPLE_BYTES

ORDERS_HEADER = b"order_id,customer_id,amount,currency,ordered_at\n"
UPLOAD_HEADERS = {"X-SMD-Upload": "1"}
EXPORTS = (
    "/export/job-runs.csv",
    "/export/job-runs.csv?job=sales-orders-ingest",
    "/export/metrics.csv?resource_type=lambda_function",
    "/export/lambda-summary.csv",
    "/export/log-events.csv?group=/aws-glue/jobs/output",
    "/export/uploads.csv",
    "/export/job-summary.csv",
)


@dataclass
class ActivityLog:
    uploads: int = 0
    exports: int = 0
    export_bytes: int = 0
    errors: list[str] = field(default_factory=list)


def orders_csv(n: int, rows: int = 2000) -> bytes:
    lines = [
        f"{n * rows + i},c-{i % 997:06d},{(i * 37) % 10000 / 7:.2f},EUR,2026-11-25T10:00:00Z\n"
        for i in range(rows)
    ]
    return ORDERS_HEADER + "".join(lines).encode()


async def upload_once(session: aiohttp.ClientSession, base: str, n: int) -> None:
    data = orders_csv(n)
    form = aiohttp.FormData()
    form.add_field("dataset", "orders")
    form.add_field("name", f"soak-{n:05d}.csv")
    form.add_field("size", str(len(data)))
    form.add_field("sample", data[:SAMPLE_BYTES], filename="sample")
    async with session.post(f"{base}/api/uploads", data=form, headers=UPLOAD_HEADERS) as r:
        plan = await r.json(content_type=None)
        if r.status != 201:
            raise RuntimeError(f"check: HTTP {r.status} {plan}")
    if plan["method"] != "post":
        raise RuntimeError(f"expected a presigned POST for {len(data)} bytes, got {plan}")
    to_s3 = aiohttp.FormData()
    for key, value in plan["post"]["fields"].items():
        to_s3.add_field(key, value)
    to_s3.add_field("file", data, filename=f"soak-{n:05d}.csv")
    async with session.post(plan["post"]["url"], data=to_s3) as r:
        if r.status >= 300:
            raise RuntimeError(f"S3 POST: HTTP {r.status} {(await r.read())[:200]!r}")
    async with session.post(
        f"{base}/api/uploads/{plan['upload_id']}/complete", json={}, headers=UPLOAD_HEADERS
    ) as r:
        if r.status != 200:
            raise RuntimeError(f"complete: HTTP {r.status} {(await r.read())[:200]!r}")


async def export_once(session: aiohttp.ClientSession, base: str, path: str) -> int:
    async with session.get(base + path) as r:
        size = 0
        async for chunk in r.content.iter_chunked(65536):
            size += len(chunk)
        if r.status != 200:
            raise RuntimeError(f"{path}: HTTP {r.status}")
        return size


async def demo_activity(
    base: str, stop_at: float, *, upload_every_s: float, export_every_s: float
) -> ActivityLog:
    """Uploads and exports at a steady pace until `stop_at` (time.monotonic())."""
    log = ActivityLog()
    timeout = aiohttp.ClientTimeout(total=120)

    async def paced(every_s: float, action: object) -> None:
        due = time.monotonic()
        for n in itertools.count():
            if due >= stop_at:
                return
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            try:
                await action(n)  # type: ignore[operator]
            except (aiohttp.ClientError, TimeoutError, RuntimeError, KeyError) as e:
                log.errors.append(f"{type(e).__name__}: {e}"[:300])
            due += every_s

    async with aiohttp.ClientSession(timeout=timeout, headers={"Origin": base}) as session:

        async def upload(n: int) -> None:
            await upload_once(session, base, n)
            log.uploads += 1

        async def export(n: int) -> None:
            log.export_bytes += await export_once(session, base, EXPORTS[n % len(EXPORTS)])
            log.exports += 1

        await asyncio.gather(paced(upload_every_s, upload), paced(export_every_s, export))
    return log
