"""The pure side of the CSV exports: what a user sees in the file and in a refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict

from dashapp.export import cells, params
from dashapp.export.params import BadParameter
from dashapp.queries import filters, lambda_summary
from dashapp.queries.filters import Window
from dashapp.queries.lambda_summary import LambdaMinute

NOW = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)


def args(**values: str | list[str]) -> MultiDict[str, str]:
    return MultiDict(values)


def body(chunks: object) -> bytes:
    return b"".join(chunks)  # type: ignore[arg-type]


# --- spreadsheet injection ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+1", "'+1+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_cells_that_a_spreadsheet_would_run_get_a_quote(cell: str, written: str) -> None:
    assert cells.neutralise(cell) == written
    assert cells.text_cell(cell) == written


def test_a_null_text_cell_is_empty() -> None:
    assert cells.text_cell(None) == ""


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("-12.5", "-12.5"),
        ("+3e4", "+3e4"),
        ("-.5", "-.5"),
        ("-1-1", "'-1-1"),
        ("=1+1", "'=1+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@user", "'@user"),
        ("total", "total"),
    ],
)
def test_untyped_cells_keep_plain_numbers_and_neutralise_the_rest(cell: str, written: str) -> None:
    assert cells.neutralise_untyped(cell) == written


# --- numbers and times --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "written"),
    [
        (None, None, ""),
        (245.0, None, "245"),
        (-3.5, None, "-3.5"),
        (-1e-07, None, "-1e-07"),
        (12, None, "12"),
        (0.1 + 0.2, 6, "0.3"),
        (123.456789, 3, "123.457"),
        (float("nan"), None, ""),
        (float("inf"), None, ""),
        (-0.0, None, "0"),
    ],
)
def test_numbers_are_written_as_a_spreadsheet_reads_them(
    value: float | None, places: int | None, written: str
) -> None:
    assert cells.number_cell(value, places) == written


def test_times_are_utc_with_a_z() -> None:
    plus_one = timezone(timedelta(hours=1))
    assert cells.time_cell(datetime(2026, 11, 25, 19, 0, tzinfo=plus_one)) == (
        "2026-11-25T18:00:00Z"
    )
    assert cells.time_cell(datetime(2026, 11, 25, 18, 0, 0, 250000, tzinfo=UTC)) == (
        "2026-11-25T18:00:00.250Z"
    )
    assert cells.time_cell(None) == ""


# --- CSV bytes ------------------------------------------------------------------------------


def test_csv_is_rfc_4180_utf8_with_crlf() -> None:
    data = body(
        cells.csv_chunks(
            ("a", "b"),
            [
                ["x,y", 'say "hi"'],
                ["line one\nline two", "ünïcødé"],
                ["", "end"],
            ],
        )
    )
    assert data == (
        b"a,b\r\n"
        b'"x,y","say ""hi"""\r\n'
        b'"line one\nline two",\xc3\xbcn\xc3\xafc\xc3\xb8d\xc3\xa9\r\n'
        b",end\r\n"
    )


def test_the_header_leaves_first_and_rows_follow_in_bounded_chunks() -> None:
    rows = ([f"row-{i:06d}", "x" * 50] for i in range(10_000))
    chunks = list(cells.csv_chunks(("name", "pad"), rows, chunk_chars=4096))
    assert chunks[0] == b"name,pad\r\n"
    assert len(chunks) > 100
    assert max(len(c) for c in chunks) < 4096 + 100  # one row past the threshold at most
    assert body(chunks).count(b"\r\n") == 10_001


def test_without_a_header_only_rows_are_written() -> None:
    assert body(cells.csv_chunks(None, [["1"]])) == b"1\r\n"
    assert body(cells.csv_chunks(None, [])) == b""


def test_athena_text_is_reparsed_and_neutralised() -> None:
    lines = ['"name","amount"\n', '"=HYPERLINK(""x"")","-12.5"\n', '"two\n', 'lines",""\n']
    assert list(cells.rewrite_untyped_csv(lines)) == [
        ["name", "amount"],
        ['\'=HYPERLINK("x")', "-12.5"],
        ["two\nlines", ""],
    ]


# --- parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("2026-11-25T18:00:00Z", datetime(2026, 11, 25, 18, tzinfo=UTC)),
        ("2026-11-25T19:00:00+01:00", datetime(2026, 11, 25, 18, tzinfo=UTC)),
        ("2026-11-25T19:00:00 01:00", datetime(2026, 11, 25, 18, tzinfo=UTC)),  # '+' decoded
        ("2026-11-25T18:00:00", datetime(2026, 11, 25, 18, tzinfo=UTC)),  # naive is UTC
        ("2026-11-25 18:00", datetime(2026, 11, 25, 18, tzinfo=UTC)),
        ("2026-11-25", datetime(2026, 11, 25, tzinfo=UTC)),
        ("2026-11-25T18:00:00.5Z", datetime(2026, 11, 25, 18, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_times_are_iso_8601_with_z_offset_or_naive_utc(raw: str, parsed: datetime) -> None:
    value = params.parse_time("since", raw)
    assert value == parsed
    assert value.tzinfo is UTC


@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01", "25/11/2026", "1732557600"])
def test_an_unparsable_time_names_the_parameter(raw: str) -> None:
    with pytest.raises(BadParameter) as e:
        params.parse_time("until", raw)
    assert str(e.value) == (
        f"until: {raw!r} is not an ISO 8601 date-time "
        "(e.g. 2026-11-25T18:00:00Z; write a '+' offset as %2B)"
    )


def test_times_outside_the_calendar_are_refused_not_crashed_on() -> None:
    with pytest.raises(BadParameter) as e:
        params.parse_time("since", "0001-01-01T00:00:00+01:00")
    assert str(e.value) == (
        "since: '0001-01-01T00:00:00+01:00' is outside the years 1 to 9999 in UTC"
    )
    with pytest.raises(BadParameter) as e:
        params.parse_window({"until": "0001-01-01T12:00:00Z"}, NOW)
    assert str(e.value) == "until: too early for the default 24 h window; give since too"


def test_the_default_window_is_the_last_24_hours() -> None:
    assert params.parse_window({}, NOW) == Window(NOW - timedelta(hours=24), NOW)


def test_since_alone_runs_to_now_and_until_alone_looks_back_24_hours() -> None:
    since = datetime(2026, 11, 20, tzinfo=UTC)
    assert params.parse_window({"since": "2026-11-20T00:00:00Z"}, NOW) == Window(since, NOW)
    assert params.parse_window({"until": "2026-11-20T00:00:00Z"}, NOW) == Window(
        since - timedelta(hours=24), since
    )


@pytest.mark.parametrize("until", ["2026-11-25T18:00:00Z", "2026-11-25T17:00:00Z"])
def test_since_must_be_before_until(until: str) -> None:
    with pytest.raises(BadParameter) as e:
        params.parse_window({"since": "2026-11-25T18:00:00Z", "until": until}, NOW)
    assert str(e.value) == f"since: must be before until (2026-11-25T18:00:00Z >= {until})"


def test_unknown_and_repeated_parameters_are_refused_and_empty_ones_ignored() -> None:
    with pytest.raises(BadParameter) as e:
        params.parse_job_runs_args(args(jobs="x"), NOW)
    assert str(e.value) == "jobs: unknown parameter; this export takes job, state, since, until"
    with pytest.raises(BadParameter) as e:
        params.parse_job_runs_args(args(job=["a", "b"]), NOW)
    assert str(e.value) == "job: given 2 times; give it once"
    assert params.parse_job_runs_args(args(job="", state=" "), NOW) == filters.JobRunsRequest(
        Window(NOW - timedelta(hours=24), NOW)
    )
    with pytest.raises(BadParameter) as e:
        params.parse_athena_args(args(since="2026-11-25"))
    assert str(e.value) == "since: unknown parameter; this export takes no parameters"


def test_state_is_any_case_and_must_be_a_glue_run_state() -> None:
    assert params.parse_job_runs_args(args(state="failed"), NOW).state == "FAILED"
    with pytest.raises(BadParameter) as e:
        params.parse_job_runs_args(args(state="broken"), NOW)
    assert str(e.value) == (
        "state: unknown run state 'broken'; one of STARTING, RUNNING, STOPPING, STOPPED, "
        "SUCCEEDED, FAILED, TIMEOUT, ERROR, WAITING, EXPIRED"
    )


def test_resource_type_must_be_glue_job_or_lambda_function() -> None:
    parsed = params.parse_metrics_args(args(resource_type="glue_job", name="j"), NOW)
    assert (parsed.resource_type, parsed.name, parsed.metric) == ("glue_job", "j", None)
    with pytest.raises(BadParameter) as e:
        params.parse_metrics_args(args(resource_type="ec2"), NOW)
    assert str(e.value) == (
        "resource_type: unknown resource type 'ec2'; one of glue_job, lambda_function"
    )


# --- Lambda summary ----------------------------------------------------------------------------


def test_weighted_percentile_is_the_first_value_reaching_the_weight() -> None:
    assert lambda_summary.weighted_percentile([], 0.95) is None
    assert lambda_summary.weighted_percentile([(5.0, 0.0)], 0.95) is None
    assert lambda_summary.weighted_percentile([(7.0, 3.0)], 0.95) == 7.0
    # 99 % of the calls at 100 ms, 1 % at 5000: the 95th percentile is 100.
    assert lambda_summary.weighted_percentile([(5000.0, 1.0), (100.0, 99.0)], 0.95) == 100.0
    # 10 % at 5000: the slow minute decides.
    assert lambda_summary.weighted_percentile([(5000.0, 10.0), (100.0, 90.0)], 0.95) == 5000.0
    # Exactly at the boundary: cumulative 95 of 100 reaches 0.95.
    assert lambda_summary.weighted_percentile([(1.0, 95.0), (2.0, 5.0)], 0.95) == 1.0


def _minute(i: int, **values: float | None) -> LambdaMinute:
    return LambdaMinute(ts=NOW + timedelta(minutes=i), **values)  # type: ignore[arg-type]


def test_a_lambda_summary_sums_counts_and_weights_durations_by_invocations() -> None:
    summary = lambda_summary.summarise_lambda(
        "orders-api",
        [
            _minute(
                0,
                invocations=100,
                errors=2,
                throttles=1,
                duration_avg=10.0,
                duration_p95=20.0,
                duration_p99=30.0,
            ),
            _minute(
                1,
                invocations=300,
                errors=1,
                throttles=0,
                duration_avg=50.0,
                duration_p95=80.0,
                duration_p99=95.0,
            ),
            _minute(2, invocations=0, errors=0, duration_avg=999.0, duration_p95=999.0),
            _minute(3),  # no datapoints at all
        ],
    )
    assert summary.invocations == 400
    assert summary.errors == 3
    assert summary.throttles == 1
    assert summary.error_rate == pytest.approx(3 / 400)
    assert summary.duration_avg_ms == pytest.approx((100 * 10 + 300 * 50) / 400)  # 40
    assert summary.duration_p95_ms == 80.0  # 95 % of 400 calls = 380 > the 100 at 20 ms
    assert summary.duration_p99_ms == 95.0
    assert cells.lambda_summary_cells(summary) == [
        "orders-api",
        "400",
        "3",
        "0.0075",
        "1",
        "40",
        "80",
        "95",
    ]


def test_a_function_without_invocations_has_zeros_and_empty_rates() -> None:
    summary = lambda_summary.summarise_lambda("idle", [_minute(0, invocations=0, throttles=4)])
    assert cells.lambda_summary_cells(summary) == ["idle", "0", "0", "", "4", "", "", ""]


def test_summaries_cover_every_known_function_and_any_with_points() -> None:
    def point(name: str, i: int, metric: str, stat: str, value: float) -> SimpleNamespace:
        return SimpleNamespace(
            resource_name=name,
            ts=NOW + timedelta(minutes=i),
            metric=metric,
            stat=stat,
            value=value,
        )

    points = [
        point("b-fn", 0, "Invocations", "Sum", 10),
        point("b-fn", 0, "ConcurrentExecutions", "Maximum", 3),  # not part of a summary
        point("b-fn", 0, "Duration", "Average", 12.5),
        point("b-fn", 1, "Invocations", "Sum", 30),
        point("b-fn", 1, "Duration", "Average", 2.5),
        point("c-new", 0, "Invocations", "Sum", 1),
    ]
    rows = [
        cells.lambda_summary_cells(s)
        for s in lambda_summary.lambda_summaries(["a-idle", "b-fn"], points)
    ]
    assert rows == [
        ["a-idle", "0", "0", "", "0", "", "", ""],
        ["b-fn", "40", "0", "0", "0", "5", "", ""],
        ["c-new", "1", "0", "0", "0", "", "", ""],
    ]


# --- names ----------------------------------------------------------------------------------------


def test_filenames_say_what_and_when_and_are_safe() -> None:
    window = Window(datetime(2026, 11, 24, 18, tzinfo=UTC), datetime(2026, 11, 25, 18, tzinfo=UTC))
    assert cells.export_filename("job-runs", window) == (
        "job-runs_2026-11-24T18-00Z_2026-11-25T18-00Z.csv"
    )
    assert cells.export_filename("log-events", window, "/aws-glue/jobs/error", None) == (
        "log-events_aws-glue-jobs-error_2026-11-24T18-00Z_2026-11-25T18-00Z.csv"
    )
    seconds = Window(NOW - timedelta(hours=24), NOW)
    assert cells.export_filename("metrics", seconds, "a b/../c") == (
        "metrics_a-b-..-c_2026-11-24T18-32-17Z_2026-11-25T18-32-17Z.csv"
    )
    assert cells.export_filename("athena", None, "1234-abcd") == "athena_1234-abcd.csv"
