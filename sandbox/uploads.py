"""Files arriving in the sandbox's raw zone, and the Glue ingest runs they start.

Why its own module: in production an upload fires an EventBridge rule whose
target is the dataset's Glue workflow; moto cannot target Glue, so the sandbox
plays that path itself, and the seed's history must put its files where the
same path would.  Kept here, apart from the run lifecycle in ``simulator``:
where an upload lands (:func:`upload_key`), which dataset an object belongs to,
the run an "Object Created" event starts (:func:`upload_run`), the partner
systems that drop files on a schedule (:class:`PartnerDrops`), and what an
ingest run really reads and writes (:func:`ingest_run_plan`,
:func:`write_prepared_output`).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dashapp.config import Dataset, Settings
from sandbox import behaviour, datagen
from sandbox.account import SandboxAccount
from sandbox.catalog import JobSpec
from sandbox.etl import IngestError, ingest_object

__all__ = [
    "PartnerDrops",
    "UploadRun",
    "dataset_for_object",
    "ingest_run_plan",
    "upload_key",
    "upload_run",
    "write_prepared_output",
]


def upload_key(dataset: Dataset, name: str, at: datetime, rng: random.Random) -> str:
    """Where an upload lands: `<prefix>/<yyyy>/<mm>/<dd>/<uuid>-<name>` (as the web app does)."""
    uid = uuid.UUID(int=rng.getrandbits(128), version=4)
    return f"{dataset.prefix}{at:%Y/%m/%d}/{uid}-{name}"


def dataset_for_object(settings: Settings, bucket: str, key: str) -> Dataset | None:
    """The dataset whose raw bucket and prefix hold `key` (the longest prefix wins)."""
    matches = [
        d
        for d in settings.datasets
        if settings.dataset_bucket(d) == bucket and key.startswith(d.prefix)
    ]
    return max(matches, key=lambda d: len(d.prefix), default=None)


@dataclass(frozen=True)
class UploadRun:
    """The Glue run an upload starts: its dataset's job, with the object as input."""

    job: str
    trigger: str
    arguments: dict[str, str]
    ingest: dict[str, Any]


def upload_run(settings: Settings, event: dict[str, Any]) -> UploadRun | None:
    """The run an S3 "Object Created" event starts (None if no dataset's prefix holds it)."""
    detail = event.get("detail", {})
    bucket = detail.get("bucket", {}).get("name")
    key = detail.get("object", {}).get("key")
    if not bucket or not key:
        return None
    dataset = dataset_for_object(settings, bucket, key)
    if dataset is None:
        return None
    uri = f"s3://{bucket}/{key}"
    args = {
        "--input_path": uri,
        "--dataset": dataset.name,
        "--output_path": f"s3://{settings.processed_bucket}/{dataset.name}/",
        "--source_event_id": str(event.get("id", "")),
    }
    return UploadRun(
        job=dataset.glue_job,
        trigger=f"{dataset.name}-upload-trigger",
        arguments=args,
        ingest={"uri": uri, "dataset": dataset.name},
    )


class PartnerDrops:
    """The partner systems that drop a file into each dataset's raw prefix now and then."""

    def __init__(
        self, account: SandboxAccount, settings: Settings, rng: random.Random, now: datetime
    ) -> None:
        self.account = account
        self.settings = settings
        self.rng = rng
        self.next_drop: dict[str, datetime] = {
            d.name: now + timedelta(seconds=rng.uniform(20, 90)) for d in settings.datasets
        }

    def drop_due(self, now: datetime) -> None:
        """Upload every file that is due by `now` (the upload path then starts its job)."""
        s3 = self.account.client("s3")
        for dataset in self.settings.datasets:
            if self.next_drop.get(dataset.name, now) > now:
                continue
            every = datagen.DROP_EVERY_S.get(dataset.name, 900)
            self.next_drop[dataset.name] = now + timedelta(
                seconds=every * self.rng.uniform(0.6, 1.4)
            )
            if dataset.name not in datagen.GENERATORS:
                continue
            dropped = datagen.drop(dataset.name, self.rng, now)
            key = upload_key(dataset, dropped.name, now, self.rng)
            s3.put_object(
                Bucket=self.settings.dataset_bucket(dataset),
                Key=key,
                Body=dropped.body,
                Metadata={"uploaded-by": f"{dataset.name}-export"},
            )


def ingest_run_plan(
    account: SandboxAccount,
    settings: Settings,
    spec: JobSpec,
    run_id: str,
    started_at: datetime,
    ingest: dict[str, Any],
    rng: random.Random,
) -> behaviour.RunPlan:
    """Really read the uploaded object (writing its output); the run's plan follows from that.

    Any failure is the run's failure, as in Glue: the plan then fails with its message.
    """
    dataset = settings.datasets_by_name.get(ingest.get("dataset") or "")
    expected = dataset.expected_columns if dataset else ()
    rows, error, output = 0, None, None
    try:
        result = ingest_object(
            account.client("s3"),
            input_uri=ingest["uri"],
            output_bucket=settings.processed_bucket,
            dataset=ingest.get("dataset") or spec.name,
            run_id=run_id,
            expected_columns=expected,
            at=started_at,
        )
        rows, output = result.rows_read, result.output_key
    except IngestError as e:
        error = f"IngestError: {e}"
    except Exception as e:  # noqa: BLE001 - any failure is the run's failure, as in Glue
        error = f"{type(e).__name__}: {e}"
    plan = behaviour.plan_run(spec, started_at, rng, rows=rows, error=error, source=ingest["uri"])
    if output:
        plan.lines.append(
            behaviour.LogLine(
                plan.total_s - 0.3,
                "output",
                f"Wrote s3://{settings.processed_bucket}/{output}",
            )
        )
        plan.lines.sort(key=lambda ln: ln.offset_s)
    return plan


def write_prepared_output(
    account: SandboxAccount,
    settings: Settings,
    spec: JobSpec,
    run_id: str,
    started_at: datetime,
    ingest: dict[str, Any],
) -> None:
    """Write the output of a run the seed's history already read (raises IngestError, KeyError)."""
    dataset = settings.datasets_by_name.get(ingest.get("dataset") or "")
    ingest_object(
        account.client("s3"),
        input_uri=f"s3://{ingest['bucket']}/{ingest['key']}",
        output_bucket=settings.processed_bucket,
        dataset=ingest.get("dataset") or spec.name,
        run_id=run_id,
        expected_columns=dataset.expected_columns if dataset else (),
        at=started_at,
    )
