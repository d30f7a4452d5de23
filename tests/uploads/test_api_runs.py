"""After the bytes arrive: who starts the Glue run (the web app in direct mode, EventBridge
otherwise), and how the collector carries the upload on to the run's outcome."""

from __future__ import annotations

from datetime import timedelta

from collectors.runs import link_uploads, record_object
from dashapp.models import GlueJob
from dashapp.queries import uploads as upload_queries
from tests.uploads.api_helpers import ORDERS, audit, uploads
from tests.uploads.conftest import NOW


def test_completing_twice_starts_one_run(make_api, aws):
    api = make_api(trigger_mode="direct")
    result = api.upload("orders.csv", ORDERS)
    again = api.complete(result["upload_id"])
    assert again.status_code == 200
    assert (again.json["status"], again.json["run_id"]) == ("triggered", result["run_id"])
    assert len(aws.glue.get_job_runs(JobName="sales-orders-ingest")["JobRuns"]) == 1


def test_a_completion_after_the_collector_saw_the_object_still_verifies_and_triggers(make_api, aws):
    api = make_api(trigger_mode="direct")
    plan = api.create("orders.csv", ORDERS).json
    api.send(plan, ORDERS)
    with api.svc.sessions.begin() as s:  # the S3 event won the race against the browser
        record_object(
            s,
            api.svc.settings,
            bucket="smd-raw",
            key=plan["key"],
            size=len(ORDERS),
            etag=None,
            uploaded_by="local",
            at=NOW,
        )
    assert uploads(api)[0].status == "uploaded"
    done = api.complete(plan["upload_id"]).json
    assert done["status"] == "triggered" and done["run_id"]
    assert uploads(api)[0].etag  # recorded from HeadObject


def test_direct_mode_starts_the_job_on_the_object(make_api, aws):
    api = make_api(trigger_mode="direct")
    result = api.upload("orders.csv", ORDERS)
    runs = aws.glue.get_job_runs(JobName="sales-orders-ingest")["JobRuns"]
    assert len(runs) == 1
    assert runs[0]["Arguments"] == {
        "--input_path": f"s3://smd-raw/{result['key']}",
        "--dataset": "orders",
    }
    assert result["status"] == "triggered"
    assert result["run_id"] == runs[0]["Id"]
    (row,) = uploads(api)
    assert (row.run_id, row.job_name, row.triggered_at) == (
        runs[0]["Id"],
        "sales-orders-ingest",
        NOW,
    )
    assert audit(api) == [("upload", "ok"), ("upload_complete", "ok"), ("start_job_run", "ok")]


def test_direct_mode_says_when_the_job_cannot_start(make_api, aws):
    api = make_api(trigger_mode="direct")
    body = b"customer_id,name\n1,Ann\n"
    result = api.upload("customers.csv", body, dataset="customers")  # no such job in moto
    assert result["status"] == "failed"
    assert result["error"].startswith("The Glue job crm-customers-ingest could not be started:")
    assert audit(api)[-1] == ("start_job_run", "error")


def test_the_collector_moves_a_direct_upload_on_to_succeeded_with_its_rows(make_api, aws):
    api = make_api(trigger_mode="direct")
    result = api.upload("orders.csv", ORDERS)
    run = {
        "run_id": result["run_id"],
        "job_name": "sales-orders-ingest",
        "state": "SUCCEEDED",
        "started_at": NOW,
        "completed_at": NOW + timedelta(seconds=40),
        "error_message": None,
        "arguments": {"--input_path": f"s3://smd-raw/{result['key']}"},
    }
    from collectors.runs import store_runs
    from dashapp.aws.glue import RUN_API_COLUMNS

    row = {k: run.get(k) for k in ("run_id", *RUN_API_COLUMNS)}
    row.update(attempt=0, observed_at=NOW, arguments=run["arguments"])
    with api.svc.sessions.begin() as s:
        store_runs(s, [row])
        from dashapp.models import JobRun

        s.get(JobRun, result["run_id"]).rows_read = 3
        s.get(JobRun, result["run_id"]).rows_written = 3
        s.add(
            GlueJob(
                name="sales-orders-ingest",
                default_arguments={"--output_path": "s3://smd-processed/orders/"},
                first_seen_at=NOW,
                last_seen_at=NOW,
            )
        )
    with api.svc.sessions() as s:
        (view,) = upload_queries.recent_uploads(s, user="local", since=NOW - timedelta(hours=1))
    assert (view.status, view.rows_read, view.rows_written) == ("succeeded", 3, 3)
    assert view.output_path == "s3://smd-processed/orders/"  # the job's default argument
    assert view.completed_at == NOW + timedelta(seconds=40)


def test_eventbridge_mode_object_event_and_runs_reach_the_same_row(api, aws):
    result = api.upload("orders.csv", ORDERS)
    key = result["key"]
    with api.svc.sessions.begin() as s:
        record_object(
            s,
            api.svc.settings,
            bucket="smd-raw",
            key=key,
            size=len(ORDERS),
            etag="e",
            uploaded_by="local",
            at=NOW,
        )
        link_uploads(
            s,
            [
                {
                    "run_id": "jr_1",
                    "job_name": "sales-orders-ingest",
                    "state": "FAILED",
                    "started_at": NOW,
                    "completed_at": NOW + timedelta(seconds=5),
                    "error_message": "IngestError: line 3: bad amount",
                    "arguments": {"--input_path": f"s3://smd-raw/{key}"},
                }
            ],
        )
    (row,) = uploads(api)
    assert (row.status, row.run_id, row.error) == (
        "failed",
        "jr_1",
        "IngestError: line 3: bad amount",
    )
