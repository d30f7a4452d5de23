"""The body of the sandbox's ingest jobs: really read the uploaded object, really write the output.

What a dataset's Glue job does in production (read CSV/JSON from the raw zone,
validate, write JSON lines to the processed zone) done in-process, streaming, so
a run's rows read/written are facts about the file, not invented numbers.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashapp.fileformats import (
    FormatProblem,
    TableSummary,
    detect_format,
    iter_records,
    rewound,
)

_SINGLE_PUT_MAX = 16 * 1024 * 1024


class IngestError(Exception):
    """The input cannot be ingested; the message names the object, the line and the problem."""


@dataclass(frozen=True)
class IngestResult:
    format: str
    columns: list[str]
    rows_read: int
    rows_written: int
    bytes_read: int
    output_key: str


def parse_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise IngestError(f"--input_path must be an s3://bucket/key URI, not {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


def output_key(dataset: str, run_id: str, at: datetime) -> str:
    return f"{dataset}/ingest_date={at:%Y-%m-%d}/{run_id}.json"


class _CountingBody:
    """Counts bytes as the job streams them from S3 (the bytesRead metric)."""

    def __init__(self, body: Any) -> None:
        self._body = body
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._body.read(size) if size and size > 0 else self._body.read()
        self.count += len(data)
        return data


def ingest_object(
    s3: Any,
    *,
    input_uri: str,
    output_bucket: str,
    dataset: str,
    run_id: str,
    expected_columns: Iterable[str],
    at: datetime,
) -> IngestResult:
    """Read `input_uri`, write its records as JSON lines; raise IngestError naming the problem."""
    bucket, key = parse_s3_uri(input_uri)
    try:
        obj = s3.get_object(Bucket=bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        raise IngestError(f"input object {input_uri} does not exist") from None
    body = _CountingBody(obj["Body"])
    name = key.rsplit("/", 1)[-1]
    dest = output_key(dataset, run_id, at)
    summary: TableSummary
    try:
        head = body.read(64 * 1024)
        fmt = detect_format(head, name, complete=len(head) < 64 * 1024)
        summary = TableSummary(format=fmt)
        with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as out:
            records = iter_records(
                rewound(head, body),  # type: ignore[arg-type]
                fmt,
                expected_columns=expected_columns,
                summary=summary,
            )
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False).encode("utf-8"))
                out.write(b"\n")
            if summary.rows == 0:
                raise FormatProblem(
                    "the file has a header but no data rows"
                    if fmt == "csv"
                    else "the file has no records"
                )
            size = out.tell()
            out.seek(0)
            if size <= _SINGLE_PUT_MAX:
                s3.put_object(Bucket=output_bucket, Key=dest, Body=out.read())
            else:  # multipart, streamed from the spooled file
                s3.upload_fileobj(out, output_bucket, dest)
    except FormatProblem as e:
        raise IngestError(f"{input_uri} {e}") from None
    return IngestResult(
        format=summary.format,
        columns=summary.columns,
        rows_read=summary.rows,
        rows_written=summary.rows,
        bytes_read=body.count,
        output_key=dest,
    )
