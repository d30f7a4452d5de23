"""The sandbox server end to end: plain boto3 with ``endpoint_url`` over real HTTP.

All tests share one module-scoped :class:`SandboxServer` (see conftest for why
no test here may use ``mock_aws``).  Correctness only: no timing assertions
(figures are in ``bench/sandbox_metrics.py``).
"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import numpy as np
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.utils import parse_timestamp

from sandbox.fidelity import glue as g
from sandbox.fidelity.cloudwatch.store import metric_store
from sandbox.server import SandboxServer

REGION = "us-east-1"
NO_RETRY = Config(retries={"total_max_attempts": 1})


@pytest.fixture(autouse=True)
def _no_leftover_faults(sandbox: SandboxServer) -> Iterator[None]:
    sandbox.fault_plan.clear()
    yield
    sandbox.fault_plan.clear()


# --- server lifecycle and control routes ---------------------------------------------------


def test_ephemeral_port_context_manager_and_prompt_stop() -> None:
    """Port 0 binds a free port that ``url`` reports; stop() ends the serving thread and frees the
    port.
    """
    with SandboxServer(port=0, ready=False) as server:
        health = f"{server.url}/_sandbox/health"
        assert requests.get(health, timeout=5).json()["ready"] is False
        server.health_info["ready"] = True  # what a seeding runner does when done
        assert requests.get(health, timeout=5).json()["ready"] is True
        assert server.port != 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        thread = server._thread
    assert thread is not None
    assert not thread.is_alive()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=1):
        pass
    server.stop()  # idempotent


def test_health_reports_fidelity(sandbox: SandboxServer) -> None:
    """/_sandbox/health says the server is up, ready, and which fidelity patches are live."""
    body = requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).json()
    assert body["status"] == "ok"
    assert body["ready"] is True
    assert set(body["fidelity"]) >= {"glue", "cloudwatch", "lambda", "s3_events"}


def test_fault_control_routes(sandbox: SandboxServer) -> None:
    """POST adds a rule, GET snapshots remaining/hits, DELETE clears, malformed bodies get 400 +
    message.
    """
    url = f"{sandbox.url}/_sandbox/faults"
    created = requests.post(
        url,
        json={"service": "glue", "operation": "GetJobs", "kind": "throttle", "count": 2},
        timeout=5,
    )
    assert created.status_code == 201
    assert created.json()["rule"]["remaining"] == 2
    snap = requests.get(url, timeout=5).json()
    assert [(r["service"], r["operation"], r["remaining"], r["hits"]) for r in snap["rules"]] == [
        ("glue", "GetJobs", 2, 0)
    ]
    for bad in (
        b"not json",
        b"[1, 2]",
        json.dumps({"kind": "throttle"}).encode(),
        json.dumps({"service": "glue", "kind": "melt"}).encode(),
        json.dumps({"service": "glue", "count": -1}).encode(),
        json.dumps({"service": "glue", "colour": "red"}).encode(),
    ):
        resp = requests.post(url, data=bad, timeout=5)
        assert resp.status_code == 400
        assert resp.json()["message"]
    assert requests.delete(url, timeout=5).json() == {"cleared": 1}
    assert requests.get(url, timeout=5).json()["rules"] == []
    assert requests.get(f"{sandbox.url}/_sandbox/nope", timeout=5).status_code == 404


# --- fault injection through real HTTP, one test per protocol --------------------------------


def _add_fault(sandbox: SandboxServer, **rule: Any) -> None:
    requests.post(f"{sandbox.url}/_sandbox/faults", json=rule, timeout=5).raise_for_status()


def _code(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientError) as err:
        call()
    resp = err.value.response
    return resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"]["Code"]


def test_faults_json_protocol(sandbox: SandboxServer, sandbox_client: Callable[..., Any]) -> None:
    """AWS JSON services throttle with 400 ThrottlingException; only the planned operation/count is
    hit.
    """
    glue = sandbox_client("glue", config=NO_RETRY)
    _add_fault(sandbox, service="glue", operation="GetJobs", kind="throttle", count=2)
    assert glue.list_jobs()["JobNames"] == []  # another operation is untouched
    assert _code(glue.get_jobs) == (400, "ThrottlingException")
    assert _code(glue.get_jobs) == (400, "ThrottlingException")
    assert glue.get_jobs()["Jobs"] == []
    _add_fault(sandbox, service="glue", kind="server_error", count=1)
    assert _code(glue.list_jobs) == (500, "InternalFailure")
    _add_fault(sandbox, service="logs", kind="unavailable", count=1)
    assert _code(sandbox_client("logs", config=NO_RETRY).describe_log_groups) == (
        503,
        "ServiceUnavailable",
    )
    hits = [
        r["hits"] for r in requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json()["rules"]
    ]
    assert hits == [2, 1, 1]


def test_faults_retried_by_botocore(
    sandbox: SandboxServer, sandbox_client: Callable[..., Any]
) -> None:
    """Injected throttles are retryable exactly like AWS's: standard retry mode rides them out."""
    glue = sandbox_client("glue", config=Config(retries={"mode": "standard", "max_attempts": 3}))
    _add_fault(sandbox, service="glue", operation="GetJobs", kind="throttle", count=1)
    resp = glue.get_jobs()
    assert resp["ResponseMetadata"]["RetryAttempts"] == 1


def test_faults_query_protocol(sandbox: SandboxServer, sandbox_client: Callable[..., Any]) -> None:
    """AWS query (XML) services throttle with Throttling."""
    sts = sandbox_client("sts", config=NO_RETRY)
    _add_fault(sandbox, service="sts", operation="GetCallerIdentity", kind="throttle")
    assert _code(sts.get_caller_identity) == (400, "Throttling")
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_faults_s3_and_lambda(sandbox: SandboxServer, sandbox_client: Callable[..., Any]) -> None:
    """S3 throttles with 503 SlowDown, Lambda with 429 TooManyRequestsException (REST protocols)."""
    s3 = sandbox_client("s3", config=NO_RETRY)
    s3.create_bucket(Bucket="faulty")
    _add_fault(sandbox, service="s3", operation="ListObjectsV2", kind="throttle")
    assert _code(lambda: s3.list_objects_v2(Bucket="faulty")) == (503, "SlowDown")
    _add_fault(sandbox, service="s3", kind="server_error")
    assert _code(lambda: s3.put_object(Bucket="faulty", Key="k", Body=b"1")) == (
        500,
        "InternalError",
    )
    assert s3.list_objects_v2(Bucket="faulty")["KeyCount"] == 0
    # a request inspected but not faulted reaches moto with its body intact
    _add_fault(sandbox, service="s3", operation="GetObject", kind="unavailable")
    s3.put_object(Bucket="faulty", Key="kept.csv", Body=b"a,b\n1,2\n")
    assert _code(lambda: s3.get_object(Bucket="faulty", Key="kept.csv")) == (
        503,
        "ServiceUnavailable",
    )
    assert s3.get_object(Bucket="faulty", Key="kept.csv")["Body"].read() == b"a,b\n1,2\n"
    lam = sandbox_client("lambda", config=NO_RETRY)
    _add_fault(sandbox, service="lambda", operation="ListFunctions", kind="throttle")
    assert _code(lam.list_functions) == (429, "TooManyRequestsException")
    assert lam.list_functions()["Functions"] == []


def test_faults_rpc_v2_cbor(sandbox: SandboxServer) -> None:
    """A smithy-rpc-v2-cbor request gets a CBOR error body botocore decodes to the AWS code.

    This botocore picks ``json`` for CloudWatch, so the test builds a client whose
    model offers only ``smithy-rpc-v2-cbor`` (a future botocore default).
    """
    session = botocore.session.Session()
    loader = session.get_component("data_loader")
    original = loader.load_service_model

    def cbor_only(service_name: str, type_name: str, api_version: str | None = None) -> Any:
        data = original(service_name, type_name, api_version)
        if service_name == "cloudwatch" and type_name == "service-2":
            data = copy.deepcopy(data)
            data["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
            data["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
        return data

    loader.load_service_model = cbor_only
    cw = session.create_client(
        "cloudwatch",
        region_name=REGION,
        endpoint_url=sandbox.url,
        config=NO_RETRY,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    _add_fault(sandbox, service="cloudwatch", operation="GetMetricData", kind="throttle")
    now = datetime.now(UTC)
    assert _code(
        lambda: cw.get_metric_data(
            MetricDataQueries=[], StartTime=now - timedelta(hours=1), EndTime=now
        )
    ) == (400, "ThrottlingException")


# --- Glue through HTTP ----------------------------------------------------------------------------


def test_glue_runs_driven_by_controller_visible_over_http(
    sandbox_client: Callable[..., Any],
) -> None:
    """StartJobRun over HTTP stays STARTING; controller moves show up; BatchStopJobRun
    -> STOPPING.
    """
    glue = sandbox_client("glue")
    glue.create_job(
        Name="http-job",
        Role="r",
        Command={"Name": "glueetl", "ScriptLocation": "s3://s/x.py"},
        WorkerType="G.2X",
        NumberOfWorkers=4,
        ExecutionProperty={"MaxConcurrentRuns": 3},
    )
    first = glue.start_job_run(JobName="http-job")["JobRunId"]
    second = glue.start_job_run(JobName="http-job")["JobRunId"]
    assert glue.get_job_run(JobName="http-job", RunId=first)["JobRun"]["JobRunState"] == "STARTING"
    run = next(r for r in g.runs_in_state(g.glue_backend(), ["STARTING"]) if r.job_run_id == first)
    g.transition(run, "RUNNING", at=run.started_on + timedelta(seconds=5))
    g.transition(run, "FAILED", at=run.started_on + timedelta(seconds=65), error_message="OOM")
    got = glue.get_job_run(JobName="http-job", RunId=first)["JobRun"]
    assert (got["JobRunState"], got["ErrorMessage"], got["ExecutionTime"], got["DPUSeconds"]) == (
        "FAILED",
        "OOM",
        65,
        65 * 8.0,
    )
    stop = glue.batch_stop_job_run(JobName="http-job", JobRunIds=[second, first])
    assert [s["JobRunId"] for s in stop["SuccessfulSubmissions"]] == [second]
    assert [e["JobRunId"] for e in stop["Errors"]] == [first]
    listed = glue.get_job_runs(JobName="http-job")["JobRuns"]
    assert [r["Id"] for r in listed] == [second, first]  # newest first
    assert listed[0]["JobRunState"] == "STOPPING"


# --- CloudWatch at collector scale through HTTP --------------------------------------------

N_SERIES = 500
N_SAMPLES = 20
DAY = 86_400


def _fast_timestamps_client(url: str) -> Any:
    """A plain boto3 client with a cheaper timestamp parser.

    botocore's default parser builds a ``tzlocal`` per value (~20 us); for the
    720k timestamps of this call that is ~20 s of client-side time unrelated to
    the sandbox.  ``set_parser_defaults`` is botocore's public hook for this.
    """

    def parse(value: Any) -> datetime:
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, UTC)
        return parse_timestamp(value)

    session = botocore.session.Session()
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse)
    return boto3.Session(botocore_session=session).client(
        "cloudwatch",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.mark.slow
def test_get_metric_data_500_queries_over_24h(sandbox: SandboxServer) -> None:
    """AWS: one GetMetricData of 500 queries over 24 h of 1-minute data (~20 samples a
    datapoint) pages through 100,800-point pages and returns every value exactly,
    percentiles included, honouring namespaces."""
    end = (int(datetime.now(UTC).timestamp()) // 60) * 60
    ts = np.arange(end - DAY, end, 60)
    rng = np.random.default_rng(2024)
    store = metric_store()
    expected: dict[str, tuple[str, np.ndarray]] = {}
    stats = ("p95", "p99", "Average", "Sum", "Maximum")
    for i in range(N_SERIES):
        samples = rng.integers(1, 10_000, size=(ts.size, N_SAMPLES)).astype(np.float64) / 8
        sums = samples.sum(axis=1)
        dims = {"FunctionName": f"fn-{i:03d}"}
        store.put_series(
            "AWS/Lambda",
            "Duration",
            dims,
            ts,
            sums=sums,
            counts=np.full(ts.size, float(N_SAMPLES)),
            mins=samples.min(axis=1),
            maxs=samples.max(axis=1),
            samples=samples,
            unit="Milliseconds",
        )
        # same name and dimensions in another namespace must never leak into the answer
        store.put_series(
            "Decoy/Lambda",
            "Duration",
            dims,
            ts,
            sums=-sums,
            counts=np.ones(ts.size),
            mins=-sums,
            maxs=-sums,
        )
        stat = stats[i % len(stats)]
        ordered = np.sort(samples, axis=1)
        expected[f"q{i}"] = (
            stat,
            {
                "p95": ordered[:, 18],  # nearest rank: ceil(0.95 * 20) = 19th smallest
                "p99": ordered[:, 19],  # ceil(0.99 * 20) = 20th
                "Average": sums / N_SAMPLES,
                "Sum": sums,
                "Maximum": samples.max(axis=1),
            }[stat],
        )
    queries = [
        {
            "Id": qid,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": "Duration",
                    "Dimensions": [{"Name": "FunctionName", "Value": f"fn-{i:03d}"}],
                },
                "Period": 60,
                "Stat": expected[qid][0],
            },
        }
        for i, qid in enumerate(expected)
    ]
    client = _fast_timestamps_client(sandbox.url)
    got: dict[str, list[tuple[datetime, float]]] = {}
    pages = 0
    token = None
    while True:
        kwargs = {"NextToken": token} if token else {}
        resp = client.get_metric_data(
            MetricDataQueries=queries,
            StartTime=datetime.fromtimestamp(end - DAY, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
            **kwargs,
        )
        pages += 1
        assert sum(len(r["Values"]) for r in resp["MetricDataResults"]) <= 100_800
        for r in resp["MetricDataResults"]:
            got.setdefault(r["Id"], []).extend(zip(r["Timestamps"], r["Values"], strict=True))
        token = resp.get("NextToken")
        if not token:
            break
    assert pages == 8  # 720,000 datapoints / 100,800 per page
    assert set(got) == set(expected)
    want_times = [datetime.fromtimestamp(t, UTC) for t in ts[::-1]]
    for qid, (stat, values) in expected.items():
        times, vals = zip(*got[qid], strict=True)
        assert list(times) == want_times, qid  # complete, newest first, no repeats
        assert list(vals) == values[::-1].tolist(), (qid, stat)


# --- S3 events through HTTP (threaded server) -----------------------------------------------------


def test_s3_uploads_reach_sqs_once_each(
    sandbox: SandboxServer, sandbox_client: Callable[..., Any]
) -> None:
    """AWS: browser presigned POST, PutObject and multipart each send exactly one Object Created
    event.
    """
    s3, sqs, events = sandbox_client("s3"), sandbox_client("sqs"), sandbox_client("events")
    s3.create_bucket(Bucket="http-landing")
    s3.put_bucket_notification_configuration(
        Bucket="http-landing", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    queue = sqs.create_queue(QueueName="http-uploads")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {
        "source": ["aws.s3"],
        "detail": {"bucket": {"name": ["http-landing"]}, "object": {"key": [{"prefix": "in/"}]}},
    }
    events.put_rule(Name="http-uploads", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="http-uploads", Targets=[{"Id": "q", "Arn": arn}])

    post = s3.generate_presigned_post("http-landing", "in/browser.csv", ExpiresIn=300)
    assert post["url"].startswith(sandbox.url)
    resp = requests.post(
        post["url"], data=post["fields"], files={"file": ("b.csv", b"x,y\n1,2\n")}, timeout=10
    )
    assert resp.status_code == 204, resp.text
    s3.put_object(Bucket="http-landing", Key="in/api.csv", Body=b"x,y\n")
    mpu = s3.create_multipart_upload(Bucket="http-landing", Key="in/big.csv")
    part = s3.upload_part(
        Bucket="http-landing", Key="in/big.csv", UploadId=mpu["UploadId"], PartNumber=1, Body=b"z"
    )
    s3.complete_multipart_upload(
        Bucket="http-landing",
        Key="in/big.csv",
        UploadId=mpu["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    received = []
    while msgs := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        received += [json.loads(m["Body"]) for m in msgs]
        sqs.delete_message_batch(
            QueueUrl=queue,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(msgs)
            ],
        )
    assert sorted((e["detail"]["object"]["key"], e["detail"]["reason"]) for e in received) == [
        ("in/api.csv", "PutObject"),
        ("in/big.csv", "CompleteMultipartUpload"),
        ("in/browser.csv", "PostObject"),
    ]
    assert len({e["id"] for e in received}) == 3


def test_each_host_keeps_its_backend_past_the_remembered_bound(
    sandbox: SandboxServer, sandbox_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dispatcher remembers each host's backend; when the hosts it remembers are dropped
    (one per S3 bucket can pile up), every service is still answered by its own backend."""
    import sandbox.server as server_module

    monkeypatch.setattr(server_module, "_HOSTS_REMEMBERED", 2)
    glue, logs, s3 = (sandbox_client(s) for s in ("glue", "logs", "s3"))
    s3.create_bucket(Bucket="dispatch-check")
    for _ in range(3):  # three hosts against a bound of two: the memory is cleared on the way
        assert "Jobs" in glue.get_jobs()
        assert "logGroups" in logs.describe_log_groups()
        assert "dispatch-check" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
