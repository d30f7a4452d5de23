"""Start, stop, re-run and bulk re-run against moto's Glue, on PostgreSQL and SQLite.

What an operator notices: the run appears at once (STARTING) with its attempt and
the run it retries, Glue really got the arguments, a double click starts nothing
twice, refusals say why, and every action is in the audit log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from collectors.glue_runs import collect_glue_runs
from dashapp.actions import jobcontrol
from dashapp.identity import Identity, Role
from dashapp.models import AuditEntry, GlueJob, JobAction, JobRun
from tests.collectors.conftest import add_run, client, fail_calls, store_inventory
from tests.jobcontrol.conftest import create_job, store_run

OPERATOR = Identity(user="olga", role=Role.operator)
JOB = "ingest-orders"


@pytest.fixture
def glue(aws, sessions, t0):
    create_job(JOB, ExecutionProperty={"MaxConcurrentRuns": 10})
    with sessions.begin() as s:
        s.add(GlueJob(name=JOB, first_seen_at=t0, last_seen_at=t0))
    return client("glue")


def audit_rows(sessions):
    with sessions() as s:
        return [
            (a.actor, a.action, a.target, a.outcome, a.detail)
            for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def glue_runs(glue_client):
    return glue_client.get_job_runs(JobName=JOB)["JobRuns"]


def test_start_records_the_run_at_once_and_audits_it(glue, sessions, t0):
    result = jobcontrol.start_job(
        sessions,
        glue,
        OPERATOR,
        JOB,
        "--input_path=s3://smd-raw/orders/a.csv",
        token="tok1",
        now=t0,
    )
    assert result.ok, result.message
    [run] = glue_runs(glue)
    assert run["Id"] == result.run_id
    assert run["Arguments"] == {"--input_path": "s3://smd-raw/orders/a.csv"}
    with sessions() as s:
        row = s.get(JobRun, result.run_id)
        assert (row.state, row.attempt, row.retry_of_run_id) == ("STARTING", 0, None)
        assert row.arguments == {"--input_path": "s3://smd-raw/orders/a.csv"}
    [(actor, action, target, outcome, detail)] = audit_rows(sessions)
    assert (actor, action, target, outcome) == ("olga", "start_job_run", JOB, "ok")
    assert detail["run_id"] == result.run_id


def test_secret_arguments_reach_glue_but_not_the_audit_log(glue, sessions, t0):
    args = "--input_path=s3://smd-raw/o.csv\n--db_password=hunter2\n--API_TOKEN=abc"
    result = jobcontrol.start_job(sessions, glue, OPERATOR, JOB, args, token="t", now=t0)
    assert result.ok, result.message
    [run] = glue_runs(glue)
    assert run["Arguments"]["--db_password"] == "hunter2"  # the job still gets it
    [(*_, detail)] = audit_rows(sessions)
    assert detail["arguments"] == {
        "--input_path": "s3://smd-raw/o.csv",
        "--db_password": "[redacted]",
        "--API_TOKEN": "[redacted]",
    }


def test_a_double_click_starts_one_run(glue, sessions, t0):
    first = jobcontrol.start_job(sessions, glue, OPERATOR, JOB, "", token="same", now=t0)
    again = jobcontrol.start_job(sessions, glue, OPERATOR, JOB, "", token="same", now=t0)
    assert first.ok and again.ok and again.duplicate
    assert again.run_id == first.run_id
    assert len(glue_runs(glue)) == 1
    assert len(audit_rows(sessions)) == 1


def test_invalid_arguments_and_unknown_jobs_are_refused_and_audited(glue, sessions, t0):
    bad = jobcontrol.start_job(sessions, glue, OPERATOR, JOB, "--JOB_NAME=x", token="a", now=t0)
    assert not bad.ok and "--JOB_NAME is set by Glue itself" in bad.message
    unknown = jobcontrol.start_job(sessions, glue, OPERATOR, "nope", "", token="b", now=t0)
    assert not unknown.ok and "No Glue job named 'nope'" in unknown.message
    assert glue_runs(glue) == []
    assert [r[3] for r in audit_rows(sessions)] == ["rejected", "rejected"]


def test_a_glue_refusal_is_reported_and_the_claim_remembers_it(glue, sessions, t0):
    fault = fail_calls(glue, "StartJobRun", code="ConcurrentRunsExceededException")
    try:
        result = jobcontrol.start_job(sessions, glue, OPERATOR, JOB, "", token="x", now=t0)
        again = jobcontrol.start_job(sessions, glue, OPERATOR, JOB, "", token="x", now=t0)
    finally:
        fault.remove()
    assert not result.ok and "ConcurrentRunsExceededException" in result.message
    assert not again.ok and again.duplicate
    assert len(fault) == 1  # the retried request did not call Glue again
    [(_, action, _, outcome, detail)] = audit_rows(sessions)
    assert (action, outcome) == ("start_job_run", "error")
    assert "ConcurrentRunsExceededException" in detail["error"]
    with sessions() as s:
        assert s.get(JobAction, "start:x").status == "failed"


def test_rerun_uses_the_failed_runs_arguments_and_survives_the_collector(
    glue, sessions, t0, make_ctx
):
    failed = add_run(
        JOB,
        t0 - timedelta(minutes=10),
        "FAILED",
        error="ThrottlingException: Rate exceeded",
        arguments={"--input_path": "s3://smd-raw/orders/b.csv"},
    )
    store_inventory(make_ctx)
    assert collect_glue_runs(make_ctx("glue_runs")).failures == []
    result = jobcontrol.rerun(sessions, glue, OPERATOR, failed.job_run_id, token="r1", now=t0)
    assert result.ok, result.message
    new = glue.get_job_run(JobName=JOB, RunId=result.run_id)["JobRun"]
    assert new["Arguments"] == {"--input_path": "s3://smd-raw/orders/b.csv"}
    # The collector's later upsert keeps what job control knows about the run.
    assert collect_glue_runs(make_ctx("glue_runs")).failures == []
    with sessions() as s:
        row = s.get(JobRun, result.run_id)
        assert (row.attempt, row.retry_of_run_id) == (1, failed.job_run_id)
        assert row.state in {"STARTING", "RUNNING"}
    [(_, action, target, outcome, detail)] = audit_rows(sessions)
    assert (action, target, outcome) == ("rerun_job_run", failed.job_run_id, "ok")
    assert detail["retry_of"] == failed.job_run_id and detail["attempt"] == 1


def test_only_finished_unsuccessful_runs_are_rerun(glue, sessions, t0):
    store_run(sessions, "jr_ok", JOB, "SUCCEEDED", t0)
    result = jobcontrol.rerun(sessions, glue, OPERATOR, "jr_ok", token="t", now=t0)
    assert not result.ok and "only failed, timed-out or stopped" in result.message
    missing = jobcontrol.rerun(sessions, glue, OPERATOR, "jr_missing", token="t", now=t0)
    assert not missing.ok and "No run 'jr_missing'" in missing.message
    assert glue_runs(glue) == []


def test_bulk_rerun_starts_each_selected_run_once(glue, sessions, t0):
    for i in (1, 2):
        store_run(
            sessions,
            f"jr_f{i}",
            JOB,
            "FAILED",
            t0 - timedelta(hours=i),
            error="boom",
            arguments={"--n": str(i)},
        )
    results = jobcontrol.bulk_rerun(
        sessions, glue, OPERATOR, ["jr_f1", "jr_f2", "jr_f1"], token="bulk", now=t0
    )
    assert [r.ok for r in results] == [True, True]
    assert sorted(r["Arguments"]["--n"] for r in glue_runs(glue)) == ["1", "2"]
    # The same confirmation sent again (a retried request) starts nothing more.
    again = jobcontrol.bulk_rerun(
        sessions, glue, OPERATOR, ["jr_f1", "jr_f2"], token="bulk", now=t0
    )
    assert all(r.duplicate for r in again)
    assert len(glue_runs(glue)) == 2
    assert [(r[1], r[2]) for r in audit_rows(sessions)] == [
        ("rerun_job_run", "jr_f1"),
        ("rerun_job_run", "jr_f2"),
    ]
    assert not jobcontrol.bulk_rerun(sessions, glue, OPERATOR, [], token="e", now=t0)[0].ok


def test_stop_asks_glue_and_shows_stopping(glue, sessions, t0):
    started = jobcontrol.start_job(sessions, glue, OPERATOR, JOB, "", token="s", now=t0)
    result = jobcontrol.stop_run(sessions, glue, OPERATOR, started.run_id, now=t0)
    assert result.ok, result.message
    state = glue.get_job_run(JobName=JOB, RunId=started.run_id)["JobRun"]["JobRunState"]
    assert state in {"STOPPING", "STOPPED"}
    with sessions() as s:
        assert s.get(JobRun, started.run_id).state == "STOPPING"
    again = jobcontrol.stop_run(sessions, glue, OPERATOR, started.run_id, now=t0)
    assert again.ok and again.duplicate
    store_run(sessions, "jr_done", JOB, "SUCCEEDED", t0)
    done = jobcontrol.stop_run(sessions, glue, OPERATOR, "jr_done", now=t0)
    assert not done.ok and "only starting, running or waiting" in done.message
    assert [(r[1], r[3]) for r in audit_rows(sessions)] == [
        ("start_job_run", "ok"),
        ("stop_job_run", "ok"),
        ("stop_job_run", "rejected"),
    ]
