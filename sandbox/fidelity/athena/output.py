"""Where a query's result goes, and putting it there.

Why: Athena decides the output location when the query is submitted (the
request's ``ResultConfiguration``, or the workgroup's, which wins when the
workgroup enforces its configuration) and writes ``<location>/<id>.csv``.
moto wrote a CSV without a header, quoting and NULLs; the sandbox writes the
very file GetQueryResults pages through (see ``resultfile``).  A missing
results bucket fails the query, as in Athena, instead of vanishing silently.
"""

from __future__ import annotations

from typing import Any

from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from .errors import USER_ERROR, AthenaQueryError, InvalidRequest
from .lifecycle import SandboxExecution
from .resultfile import ResultFile

__all__ = ["output_location", "write_result"]

_NO_LOCATION = (
    "No output location provided. An output location is required either through the "
    "Workgroup result configuration setting or as an API input."
)


def output_location(
    requested: dict[str, Any], workgroup_configuration: dict[str, Any], execution_id: str
) -> str:
    """``s3://.../<id>.csv`` for a query submitted with ``requested`` to this workgroup."""
    group = (workgroup_configuration.get("ResultConfiguration") or {}).get("OutputLocation")
    enforced = workgroup_configuration.get("EnforceWorkGroupConfiguration", True)
    base = group if (group and enforced) else (requested.get("OutputLocation") or group)
    if not base:
        raise InvalidRequest(_NO_LOCATION)
    if not base.startswith("s3://"):
        raise InvalidRequest(f"Invalid OutputLocation {base!r}: it must be an s3:// URI")
    return f"{base.rstrip('/')}/{execution_id}.csv"


def write_result(
    account_id: str, region: str, execution: SandboxExecution, result: ResultFile
) -> None:
    """Put the result CSV at the query's OutputLocation and keep it for GetQueryResults."""
    assert execution.output_location is not None
    bucket, _, key = execution.output_location[len("s3://") :].partition("/")
    backend = s3_backends[account_id][get_partition(region)]
    if bucket not in backend.buckets:
        result.close()
        raise AthenaQueryError(f"Unable to verify/create output bucket {bucket}", type_=USER_ERROR)
    backend.put_object(bucket_name=bucket, key_name=key, value=result.read_bytes())
    execution.result = result
