"""AWS Glue actions users (and the auto-retry) take: start a run, stop runs.

Kept apart from `glue.py` (the collector's read side) so the IAM permissions of
the web role and the collector role map onto modules: `glue:StartJobRun` and
`glue:BatchStopJobRun` are used here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dashapp.aws import shape

STOP_BATCH = 25  # BatchStopJobRun accepts at most 25 run ids a call


class GlueActionError(Exception):
    """Glue refused or failed an action; the message is what the user reads.

    `code` is the AWS error code (None for network errors), for callers whose answer
    depends on why Glue refused: the auto-retry waits on ConcurrentRunsExceededException.
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def error_text(error: BaseException) -> str:
    """`ConcurrentRunsExceededException: ...` for AWS errors, the message otherwise."""
    if isinstance(error, ClientError):
        err = error.response.get("Error", {})
        return f"{err.get('Code', 'ClientError')}: {err.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a ClientError (`ConcurrentRunsExceededException`), else None."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code")
    return None


def start_job_run(client: Any, job_name: str, arguments: dict[str, str]) -> str:
    """Start a run of `job_name` with `arguments` (merged by Glue over the job's defaults)."""
    kwargs: dict[str, Any] = {"JobName": job_name}
    if arguments:
        kwargs["Arguments"] = dict(arguments)
    try:
        return str(client.start_job_run(**kwargs)["JobRunId"])
    except (ClientError, BotoCoreError) as e:
        raise GlueActionError(error_text(e), error_code(e)) from e


@dataclass
class StopResult:
    stopped: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # run id → why it was not stopped


@shape.parser("BatchStopJobRun answer")
def parse_stop_response(response: dict[str, Any]) -> StopResult:
    """Which runs Glue accepted to stop, and each refusal's reason."""
    result = StopResult()
    for ok in shape.items(response, "SuccessfulSubmissions"):
        result.stopped.append(shape.text(ok, "JobRunId"))
    for err in shape.items(response, "Errors"):
        detail = shape.mapping(err, "ErrorDetail")
        code = shape.optional_text(detail, "ErrorCode") or "Error"
        text = f"{code}: {shape.optional_text(detail, 'ErrorMessage') or ''}".strip()
        result.errors[shape.optional_text(err, "JobRunId") or ""] = text
    return result


def stop_job_runs(client: Any, job_name: str, run_ids: list[str]) -> StopResult:
    """Ask Glue to stop runs of one job (25 a call); a run already finished is an error entry."""
    result = StopResult()
    for start in range(0, len(run_ids), STOP_BATCH):
        part = run_ids[start : start + STOP_BATCH]
        try:
            resp = client.batch_stop_job_run(JobName=job_name, JobRunIds=part)
        except (ClientError, BotoCoreError) as e:
            raise GlueActionError(error_text(e)) from e
        try:
            one = parse_stop_response(resp)
        except shape.MalformedResponse as e:
            raise GlueActionError(str(e)) from e
        result.stopped.extend(one.stopped)
        result.errors.update(one.errors)
    return result
