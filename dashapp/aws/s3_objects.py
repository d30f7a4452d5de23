"""Reading S3 objects as text, a line at a time (the Athena result export).

An Athena result can be far larger than a worker's memory, so the object is never
read whole: `open_text_lines` returns a line iterator over the response body, with
universal-newline splitting but line endings kept (`newline=""`), which is what the
csv module needs to parse quoted fields that span lines. The object is requested
eagerly, so a missing object is reported before an HTTP response has started; the
body is read lazily and closed when the iterator is closed or exhausted.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

_MISSING = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound"})


class ObjectNotFound(Exception):
    """The bucket or key does not exist (e.g. a lifecycle rule expired an Athena result)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        super().__init__(f"{uri} does not exist")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` → (bucket, key); ValueError for anything else."""
    parts = urlsplit(uri)
    key = parts.path.lstrip("/")
    if parts.scheme != "s3" or not parts.netloc or not key:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    return parts.netloc, key


class TextLines:
    """Lines of an S3 object's text; an iterator that must be closed (or exhausted)."""

    def __init__(self, body: Any, encoding: str) -> None:
        self._body = body
        self._text = io.TextIOWrapper(body, encoding=encoding, newline="")

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            return next(self._text)
        except StopIteration:
            self.close()
            raise

    def close(self) -> None:
        """Release the HTTP connection (idempotent)."""
        if not self._text.closed:
            self._text.close()
        self._body.close()

    def __enter__(self) -> TextLines:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_text_lines(s3: Any, uri: str, *, encoding: str = "utf-8-sig") -> TextLines:
    """GET the object at `uri` and return its lines; ObjectNotFound when it is not there.

    `utf-8-sig` reads UTF-8 and drops a byte-order mark, should a writer have added one.
    Other S3 errors (access denied, throttling after retries) propagate as ClientError.
    """
    bucket, key = parse_s3_uri(uri)
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in _MISSING:
            raise ObjectNotFound(uri) from e
        raise
    return TextLines(response["Body"], encoding)
