"""ApiCallCounter (collector cost figures), the fast timestamp parser, retry attempts, and
the clients' configuration (presigning, long calls)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError

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


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> AwsClients:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = Settings(database_url="sqlite://", aws_region="us-east-1", _env_file=None)
    return AwsClients(settings, session=boto3.session.Session())


def test_s3_presigns_with_sigv4_even_where_botocore_would_pick_sigv2(clients) -> None:
    # us-east-1 is one of the regions where botocore presigns S3 with SigV2 by default: S3
    # refuses SigV2 on buckets created since June 2020, and SigV2 URLs carry no CRC32.
    url = clients.client("s3").generate_presigned_url(
        "upload_part",
        Params={"Bucket": "b", "Key": "k", "UploadId": "u", "PartNumber": 1},
    )
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "Signature" not in query and "AWSAccessKeyId" not in query


def test_a_long_call_gets_its_own_client_from_the_same_session(clients) -> None:
    s3 = clients.client("s3")
    patient = clients.client("s3", read_timeout_s=900)
    assert s3.meta.config.read_timeout == clients.settings.aws_read_timeout_s
    assert patient.meta.config.read_timeout == 900
    assert clients.client("s3", read_timeout_s=900) is patient  # made once


def test_only_cloudwatch_skips_botocore_parameter_validation(clients) -> None:
    """The metrics collector's 500-query requests are built by code; other calls carry
    values that came from people (job arguments, upload keys) and keep botocore's check."""

    class Sent(Exception):
        pass

    def stop_at_send(**_: object) -> None:
        raise Sent

    cloudwatch, glue = clients.client("cloudwatch"), clients.client("glue")
    for client in (cloudwatch, glue):
        client.meta.events.register("before-send.*.*", stop_at_send)
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    with pytest.raises(Sent):  # an Id that is no string went out unchecked
        cloudwatch.get_metric_data(MetricDataQueries=[{"Id": 5}], StartTime=start, EndTime=end)
    with pytest.raises(ParamValidationError):
        glue.get_job_runs(JobName=5)
