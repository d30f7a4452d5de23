"""Everything checked before an upload may write anything: dataset, name, size, content.

`validate_request` is pure: the request's fields and the sample the browser read
in, an accepted upload or `UploadRejected` out. A file no larger than the sample
is read whole here; a larger one by its first `SAMPLE_BYTES`, and whole by the
ingest job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dashapp.actions.uploads.names import sanitise_name
from dashapp.actions.uploads.problems import UploadRejected
from dashapp.actions.uploads.sniff import SAMPLE_BYTES, SampleReport, check_sample
from dashapp.config import Dataset

# 10**15 bytes is far above S3's 5 TiB object limit; longer numbers are not sizes (and
# past 4,300 digits int() refuses them).
_MAX_SIZE_DIGITS = 15
CONTENT_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "ndjson": "application/x-ndjson",
}


def human_size(n: int) -> str:
    """Bytes as people read them: 1.5 GB (decimal units, as file managers show them)."""
    value = float(n)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class UploadRequest:
    """What the browser asks for: a file of `size` bytes named `name` into `dataset`."""

    dataset: str
    name: str
    size: int


@dataclass(frozen=True)
class AcceptedUpload:
    """A request that passed every check, with what the object will be called and typed."""

    dataset: Dataset
    original_name: str
    safe_name: str
    size: int
    content_type: str
    report: SampleReport


def parse_request(form: Mapping[str, str]) -> UploadRequest:
    """The request's fields from a form; UploadRejected naming a missing or malformed one."""
    dataset = (form.get("dataset") or "").strip()
    if not dataset:
        raise UploadRejected("Choose the dataset the file belongs to.")
    name = form.get("name") or ""
    raw_size = (form.get("size") or "").strip()
    # ASCII only: str.isdigit() also says yes to '²', which int() refuses.
    if not (raw_size.isascii() and raw_size.isdigit()):
        raise UploadRejected(f"The file size {raw_size!r} is not a whole number of bytes.")
    digits = raw_size.lstrip("0") or "0"
    if len(digits) > _MAX_SIZE_DIGITS:
        raise UploadRejected(
            f"The file size {digits[:20]}… bytes is larger than any file S3 can hold.", status=413
        )
    return UploadRequest(
        dataset=dataset,
        name=name,
        size=int(digits),
    )


def validate_request(
    request: UploadRequest,
    sample: bytes,
    datasets: Mapping[str, Dataset],
    *,
    max_bytes: int,
) -> AcceptedUpload:
    """Accept the upload or raise UploadRejected with the first problem a user must fix."""
    dataset = datasets.get(request.dataset)
    if dataset is None:
        raise UploadRejected(f"There is no dataset called {request.dataset!r}.")
    safe_name = sanitise_name(request.name)
    if request.size == 0:
        raise UploadRejected("The file is empty.")
    if request.size > max_bytes:
        raise UploadRejected(
            f"The file is {human_size(request.size)}; files can be at most "
            f"{human_size(max_bytes)}. Split it into smaller files and upload those.",
            status=413,
        )
    complete = request.size <= SAMPLE_BYTES
    expected_sample = request.size if complete else SAMPLE_BYTES
    if len(sample) != expected_sample:
        raise UploadRejected(
            f"The browser sent {len(sample)} bytes of the file to check, but should have sent "
            f"{expected_sample}; reload the page and try again."
        )
    report = check_sample(sample, safe_name, dataset, complete=complete)
    return AcceptedUpload(
        dataset=dataset,
        original_name=request.name,
        safe_name=safe_name,
        size=request.size,
        # What the file is, not what the browser guessed from its extension.
        content_type=CONTENT_TYPES[report.format],
        report=report,
    )
