"""What users type as run arguments, and what the auto-retry decides: pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashapp.actions.run_arguments import (
    ArgumentError,
    format_arguments,
    parse_arguments,
    validate_arguments,
)
from dashapp.config import ConfigError, RetryPolicy, Settings, load_settings
from dashapp.queries.retries import backoff_delay, is_transient, retry_decision

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_key_value_lines_become_glue_arguments():
    text = "--input_path=s3://smd-raw/sales/a.csv\n\n  --mode_x = fast \n--empty="
    assert parse_arguments(text) == {
        "--input_path": "s3://smd-raw/sales/a.csv",
        "--mode_x": "fast",
        "--empty": "",
    }
    assert parse_arguments("") == {}
    assert parse_arguments(format_arguments({"--a": "1=2", "--b": "x"})) == {
        "--a": "1=2",
        "--b": "x",
    }


def test_every_problem_is_named_with_its_line():
    with pytest.raises(ArgumentError) as e:
        parse_arguments("input=1\n--ok\n--a=1\n--a=2")
    assert e.value.problems == [
        "line 2: write --key=value",
        "line 4: --a is given twice",
        "'input': keys start with -- followed by letters, digits, '_', '.' or '-'",
    ]
    with pytest.raises(ArgumentError) as e:
        parse_arguments("input=1")
    assert "keys start with --" in str(e.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"--JOB_NAME": "x"}, "--JOB_NAME is set by Glue itself"),
        ({"--conf": "spark.x=1"}, "--conf is set by Glue itself"),
        ({"-x": "1"}, "keys start with --"),
        ({"--bad key": "1"}, "keys start with --"),
        ({"--k": "v" * 5000}, "values are at most 4096"),
        ({"--" + "k" * 200: "v"}, "keys are at most 128"),
        ({f"--k{i}": "v" for i in range(51)}, "at most 50 arguments"),
        ({"--k": 3}, "the value must be text"),
    ],
)
def test_invalid_arguments_are_refused_with_a_reason(args, message):
    with pytest.raises(ArgumentError, match=message):
        validate_arguments(args)


POLICY = RetryPolicy(attempts=2, backoff_s=60, backoff_factor=2)


@pytest.mark.parametrize(
    ("state", "error", "transient"),
    [
        ("FAILED", "ThrottlingException: Rate exceeded", True),
        ("FAILED", "ConcurrentRunsExceededException: Concurrent runs exceeded", True),
        ("FAILED", "ResourceNumberLimitExceededException: too many", True),
        ("FAILED", "java.net.SocketException: Connection reset", True),
        ("FAILED", "Failed to connect to s3.amazonaws.com", True),
        ("FAILED", "Read timeout on endpoint", True),
        ("TIMEOUT", None, True),
        ("FAILED", "AnalysisException: cannot resolve column 'amount'", False),
        ("FAILED", None, False),
    ],
)
def test_transient_failures_are_told_from_bugs(state, error, transient):
    assert is_transient(state, error, POLICY) is transient


def test_backoff_grows_by_the_factor():
    assert [backoff_delay(POLICY, a).total_seconds() for a in range(3)] == [60, 120, 240]


def decide(**kw):
    base = dict(
        state="FAILED",
        error_message="Rate exceeded",
        attempt=0,
        finished_at=NOW - timedelta(seconds=30),
        policy=POLICY,
        now=NOW,
    )
    return retry_decision(**{**base, **kw})


def test_retry_decisions():
    waiting = decide()
    assert waiting.status == "waiting" and waiting.due_at == NOW + timedelta(seconds=30)
    assert decide(now=NOW + timedelta(seconds=30)).status == "due"
    busy = decide(now=NOW + timedelta(seconds=30), busy_run="jr_9")
    assert busy.status == "busy"
    assert busy.reason.endswith("waits for run jr_9 of the job to finish.")
    assert decide(busy_run="jr_9").status == "waiting"  # the back-off first
    assert decide(attempt=1, now=NOW + timedelta(seconds=60)).status == "waiting"
    assert decide(attempt=2).status == "exhausted"
    assert decide(error_message="KeyError: 'id'").status == "not_transient"
    assert decide(policy=None).status == "no_policy"
    assert decide(state="STOPPED").status == "not_retryable"
    assert decide(state="SUCCEEDED").status == "not_retryable"


def test_retry_policies_setting_matches_jobs_by_name_then_glob():
    s = Settings(
        _env_file=None,
        retry_policies='{"ingest-orders": {"attempts": 1}, "ingest-*": {"attempts": 3}}',
    )
    assert s.retry_policy("ingest-orders").attempts == 1
    assert s.retry_policy("ingest-events").attempts == 3
    assert s.retry_policy("report") is None
    assert Settings(_env_file=None).retry_policy("ingest-orders") is None


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("[1]", "SMD_RETRY_POLICIES"),
        ('{"a": {"attempts": 99}}', "SMD_RETRY_POLICIES[a][attempts]"),
        ('{"a": {"transient_patterns": ["("]}}', "SMD_RETRY_POLICIES[a][transient_patterns]"),
        ('{"a": {"colour": 1}}', "SMD_RETRY_POLICIES[a][colour]"),
    ],
)
def test_invalid_retry_policies_name_the_setting(value, where):
    with pytest.raises(ConfigError, match=r"^configuration error: " + where.replace("[", r"\[")):
        load_settings(_env_file=None, retry_policies=value)
