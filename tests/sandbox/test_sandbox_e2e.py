"""The sandbox as a user meets it: `python -m dashapp sandbox`, then plain boto3.

These are the foundation issue's acceptance points, run against the real
sandbox process (server + fidelity layer + seed + simulator) on a free port.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.datasets import DATASETS
from tests.sandbox_process import client, sandbox_process

DATASET = next(d for d in DATASETS if d.name == "orders")
CLICKS = next(d for d in DATASETS if d.name == "clickstream")


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sandbox_process(tmp_path_factory.mktemp("sandbox"), history_days=1) as url:
        yield url


def test_plain_boto3_sees_at_least_12_glue_jobs_and_12_lambda_functions(sandbox_url: str):
    glue = client(sandbox_url, "glue")
    jobs = [j for page in glue.get_paginator("get_jobs").paginate() for j in page["Jobs"]]
    assert len(jobs) >= 12
    assert {d.glue_job for d in DATASETS} <= {j["Name"] for j in jobs}
    assert all(j.get("Description") for j in jobs)
    lam = client(sandbox_url, "lambda")
    functions = [f for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]]
    assert len(functions) >= 12
    logs = client(sandbox_url, "logs")
    groups = {g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]}
    assert {"/aws-glue/jobs/output", "/aws-glue/jobs/error"} <= groups
    assert all(f"/aws/lambda/{f['FunctionName']}" in groups for f in functions)


def test_job_runs_have_failures_with_errors_and_dpu_seconds_newest_first(sandbox_url: str):
    glue = client(sandbox_url, "glue")
    failed = []
    for job in (
        "iot-telemetry-compact",
        "web-sessionize-hourly",
        "dq-checks-orders",
        "payments-reconciliation",
        "support-tickets-enrich",
    ):
        runs = glue.get_job_runs(JobName=job, MaxResults=200)["JobRuns"]
        assert runs, job
        started = [r["StartedOn"] for r in runs]
        assert started == sorted(started, reverse=True), "GetJobRuns must be newest first"
        for r in runs:
            if r["JobRunState"] in ("SUCCEEDED", "FAILED", "TIMEOUT"):
                assert r["DPUSeconds"] > 0 and "CompletedOn" in r and r["ExecutionTime"] > 0
            else:
                assert "CompletedOn" not in r
        failed += [r for r in runs if r["JobRunState"] == "FAILED"]
    assert failed, "a day of history has failed runs"
    assert all(len(r["ErrorMessage"]) > 20 for r in failed)
    # Realistic error texts, not one canned message.
    assert len({r["ErrorMessage"] for r in failed}) >= 2


def test_lambda_duration_p99_answers(sandbox_url: str):
    cw = client(sandbox_url, "cloudwatch")
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    resp = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": f"q{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Duration",
                        "Dimensions": [{"Name": "FunctionName", "Value": "orders-api-handler"}],
                    },
                    "Period": 300,
                    "Stat": stat,
                },
            }
            for i, stat in enumerate(("p50", "p99", "Maximum"))
        ],
        StartTime=end - timedelta(hours=6),
        EndTime=end,
    )
    by_id = {r["Id"]: r["Values"] for r in resp["MetricDataResults"]}
    assert by_id["q1"], "p99 returns values"
    assert all(
        p50 <= p99 <= mx for p50, p99, mx in zip(by_id["q0"], by_id["q1"], by_id["q2"], strict=True)
    )


def _csv_body() -> tuple[bytes, int]:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(DATASET.expected_columns)
    rows = [
        ["ORD-1", "C1", "10.00", "EUR", "2026-11-25T10:00:00Z"],
        ["ORD-2", "C2", "1,234.50", "USD", "2026-11-25T10:01:00Z"],  # quoted comma
        ["ORD-3", 'Zoë "Z" Ünal', "3.10", "EUR", "2026-11-25T10:02:00Z"],
        ["ORD-4", "C4", "4.00", "GBP", "line one\nline two"],  # embedded newline
    ]
    w.writerows(rows)
    return out.getvalue().encode("utf-8"), len(rows)


def _wait_for_run(glue, job: str, key: str, *, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in glue.get_job_runs(JobName=job, MaxResults=50)["JobRuns"]:
            if run.get("Arguments", {}).get("--input_path", "").endswith(key) and run[
                "JobRunState"
            ] in ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"):
                return run
        time.sleep(0.2)
    pytest.fail(f"no finished run of {job} for {key} within {timeout} s")


def _metric_sum(cw, namespace: str, name: str, dims: dict[str, str]) -> float:
    end = datetime.now(UTC) + timedelta(minutes=1)
    resp = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    },
                    "Period": 3600,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=end - timedelta(hours=2),
        EndTime=end,
    )
    return sum(resp["MetricDataResults"][0]["Values"])


def test_csv_upload_triggers_the_mapped_job_which_reads_every_row(sandbox_url: str):
    s3, glue, cw = (client(sandbox_url, s) for s in ("s3", "glue", "cloudwatch"))
    body, rows = _csv_body()
    key = f"{DATASET.prefix}2026/11/25/{uuid.uuid4()}-orders.csv"
    started = time.monotonic()
    s3.put_object(Bucket="smd-raw", Key=key, Body=body)
    run = _wait_for_run(glue, DATASET.glue_job, key)
    assert time.monotonic() - started < 10
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert run["TriggerName"] == "orders-upload-trigger"
    dims = {"JobName": DATASET.glue_job, "JobRunId": run["Id"], "Type": "count"}
    assert _metric_sum(cw, "Glue", "glue.driver.aggregate.recordsRead", dims) == rows
    written = _metric_sum(
        cw, "SMD/Ingestion", "RowsWritten", {"JobName": DATASET.glue_job, "JobRunId": run["Id"]}
    )
    assert written == rows
    out = s3.list_objects_v2(Bucket="smd-processed", Prefix="orders/")["Contents"]
    mine = [o for o in out if run["Id"] in o["Key"]]
    assert len(mine) == 1
    lines = s3.get_object(Bucket="smd-processed", Key=mine[0]["Key"])["Body"].read().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == rows
    assert records[2]["customer_id"] == 'Zoë "Z" Ünal'
    assert records[3]["ordered_at"] == "line one\nline two"
    # The object itself sits encrypted under the pipeline's KMS key.
    head = s3.head_object(Bucket="smd-raw", Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"


def test_ndjson_upload_to_clickstream_succeeds(sandbox_url: str):
    s3, glue = client(sandbox_url, "s3"), client(sandbox_url, "glue")
    records = [
        {"event_id": str(i), "url": "/p?a=1,2", "ts": "2026-11-25T10:00:00Z"} for i in range(7)
    ]
    key = f"{CLICKS.prefix}2026/11/25/{uuid.uuid4()}-clicks.ndjson"
    s3.put_object(
        Bucket="smd-raw", Key=key, Body="\n".join(json.dumps(r) for r in records).encode()
    )
    run = _wait_for_run(glue, CLICKS.glue_job, key)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")


def test_malformed_csv_fails_the_run_with_an_error_naming_problem_and_line(sandbox_url: str):
    s3, glue, logs = (client(sandbox_url, s) for s in ("s3", "glue", "logs"))
    header = ",".join(DATASET.expected_columns)
    body = f"{header}\nORD-1,C1,1.00,EUR,2026-11-25T10:00:00Z\nORD-2,C2,2.00,EUR\n".encode()
    key = f"{DATASET.prefix}2026/11/25/{uuid.uuid4()}-broken.csv"
    s3.put_object(Bucket="smd-raw", Key=key, Body=body)
    run = _wait_for_run(glue, DATASET.glue_job, key)
    assert run["JobRunState"] == "FAILED"
    assert "line 3" in run["ErrorMessage"]
    assert "expected 5 values" in run["ErrorMessage"] and "found 4" in run["ErrorMessage"]
    # The error is in the run's logs too, where an engineer looks next.
    events = logs.get_log_events(
        logGroupName="/aws-glue/jobs/error", logStreamName=run["Id"], startFromHead=True
    )["events"]
    assert any("line 3" in e["message"] for e in events)


def test_state_changes_and_uploads_reach_the_collector_queue(sandbox_url: str):
    s3, glue, sqs = (client(sandbox_url, s) for s in ("s3", "glue", "sqs"))
    body, _ = _csv_body()
    key = f"{DATASET.prefix}2026/11/25/{uuid.uuid4()}-events.csv"
    s3.put_object(Bucket="smd-raw", Key=key, Body=body)
    run = _wait_for_run(glue, DATASET.glue_job, key)
    url = sqs.get_queue_url(QueueName="smd-collector-events")["QueueUrl"]
    seen_upload = seen_state = False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (seen_upload and seen_state):
        for msg in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            event = json.loads(msg["Body"])
            if event["detail-type"] == "Object Created" and event["detail"]["object"]["key"] == key:
                seen_upload = True
            if (
                event["detail-type"] == "Glue Job State Change"
                and event["detail"]["jobRunId"] == run["Id"]
            ):
                assert event["source"] == "aws.glue"
                assert event["detail"]["state"] == "SUCCEEDED"
                seen_state = True
            sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    assert seen_upload and seen_state


def test_athena_reads_the_seeded_processed_orders(sandbox_url: str):
    """Issue 10: Athena over the seeded ``processed.orders`` table returns what the ingest jobs
    wrote, partition by partition, and bills the bytes of exactly those objects.
    """
    s3, athena = client(sandbox_url, "s3"), client(sandbox_url, "athena")
    today = f"{datetime.now(UTC):%Y-%m-%d}"  # live runs still write today's partition
    rows: dict[str, int] = {}
    size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket="smd-processed", Prefix="orders/ingest_date="
    ):
        for obj in page.get("Contents", []):
            day = obj["Key"].split("/")[1].split("=", 1)[1]
            if day < today:
                body = s3.get_object(Bucket="smd-processed", Key=obj["Key"])["Body"].read()
                rows[day] = rows.get(day, 0) + len(body.splitlines())
                size += obj["Size"]
    assert rows, "a day of history wrote processed orders before today"
    qid = athena.start_query_execution(
        QueryString=f"SELECT ingest_date, count(*) FROM orders WHERE ingest_date < '{today}' "
        "GROUP BY ingest_date ORDER BY ingest_date",
        QueryExecutionContext={"Database": "processed"},
        ResultConfiguration={"OutputLocation": "s3://smd-athena-results/e2e/"},
    )["QueryExecutionId"]
    deadline = time.monotonic() + 30
    while (state := athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"])["Status"][
        "State"
    ] not in ("SUCCEEDED", "FAILED", "CANCELLED"):
        assert time.monotonic() < deadline, state["Status"]
        time.sleep(0.1)
    assert state["Status"]["State"] == "SUCCEEDED", state["Status"]
    assert state["Statistics"]["DataScannedInBytes"] == size
    result = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"][1:]
    assert {r["Data"][0]["VarCharValue"]: int(r["Data"][1]["VarCharValue"]) for r in result} == rows
    table = client(sandbox_url, "glue").get_table(DatabaseName="processed", Name="orders")
    columns = {c["Name"]: c["Type"] for c in table["Table"]["StorageDescriptor"]["Columns"]}
    assert columns["amount"] == "double" and columns["order_id"] == "string"
    assert table["Table"]["Parameters"]["projection.enabled"] == "true"
