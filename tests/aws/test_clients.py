"""ApiCallCounter (collector cost figures), the fast timestamp parser, retry attempts."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError

from dashapp.aws.clients import ApiCallCounter, AwsClients, fast_timestamp
from dashapp.config import Settings
from sandbox.fidelity.client_faults import inject_client_faults


def test_counter_counts_per_service_operation_and_resets() -> None:
    c = ApiCallCounter()
    for _ in range(3):
        c("before-call.cloudwatch.GetMetricData", model=None)
    c("before-call.glue.GetJobRuns")
    c.on_send()
    assert c.snapshot() == {"cloudwatch:GetMetricData": 3, "glue:GetJobRuns": 1}
    assert c.total() == 4
    assert c.requests == 1
    assert c.reset() == {"cloudwatch:GetMetricData": 3, "glue:GetJobRuns": 1}
    assert c.snapshot() == {} and c.total() == 0


def test_fast_timestamp_matches_what_aws_sends() -> None:
    expected = datetime(2026, 11, 25, 18, 27, tzinfo=UTC)
    assert fast_timestamp(1795631220) == expected
    assert fast_timestamp(1795631220.0) == expected
    assert fast_timestamp("2026-11-25T18:27:00Z") == expected
    assert fast_timestamp("2026-11-25T18:27:00.000+00:00") == expected
    assert fast_timestamp("2026-11-25T18:27:00") == expected  # naive means UTC
    assert fast_timestamp("Wed, 25 Nov 2026 18:27:00 GMT") == expected  # RFC 822 falls back


@pytest.mark.parametrize("attempts", [1, 2])
def test_max_attempts_counts_every_request_the_first_included(attempts: int) -> None:
    """SMD_AWS_MAX_ATTEMPTS=N sends at most N requests for a call that keeps failing: the
    documented per-call cost, which botocore's `max_attempts` (retries only) would exceed."""
    settings = Settings(
        _env_file=None, aws_max_attempts=attempts, aws_endpoint_url="http://127.0.0.1:9"
    )
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    clients = AwsClients(settings, session=session)
    glue = clients.client("glue")
    faults = inject_client_faults(glue, "GetJobs", "server_error", count=10)
    with pytest.raises(ClientError):
        glue.get_jobs()
    assert faults.hits == attempts
    assert clients.counter.requests == attempts
