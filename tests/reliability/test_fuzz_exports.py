"""Every CSV export under random query strings, through the app, on PostgreSQL and SQLite.

The contract (ARCHITECTURE §4): a malformed or unknown parameter is a 400 and a name
that does not exist a 404, each one plain line naming the parameter; anything else
is the CSV. A 500, a traceback or a half-streamed file would be a defect.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import dash
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dashapp.export import params
from dashapp.export.job_summary import JOB_SUMMARY_PARAMS
from dashapp.export.uploads import UPLOADS_PARAMS
from dashapp.services import Services
from tests.reliability.conftest import NOW, examples
from tests.reliability.outcomes import attempt
from tests.reliability.strategies import edge_text, hostile_text, iso_text
from tests.web.seed import (
    athena_query,
    glue_job,
    job_run,
    lambda_minute,
    log_event,
    log_stream,
    metric_point,
)

EXPORTS: dict[str, tuple[str, ...]] = {
    "/export/job-runs.csv": params.JOB_RUNS_PARAMS,
    "/export/metrics.csv": params.METRICS_PARAMS,
    "/export/lambda-summary.csv": params.LAMBDA_SUMMARY_PARAMS,
    "/export/log-events.csv": params.LOG_EVENTS_PARAMS,
    "/export/uploads.csv": UPLOADS_PARAMS,
    "/export/job-summary.csv": JOB_SUMMARY_PARAMS,
    "/export/athena/q-failed.csv": params.ATHENA_PARAMS,
}
HEADER_STARTS: dict[str, bytes | None] = {
    "/export/job-runs.csv": b"job_name,run_id,",
    "/export/metrics.csv": b"resource_type,resource_name,",
    "/export/lambda-summary.csv": b"function_name,invocations,",
    "/export/log-events.csv": b"log_group,log_stream,",
    "/export/uploads.csv": b"upload_id,dataset,",
    "/export/job-summary.csv": b"job_name,status,",
    "/export/athena/q-failed.csv": None,  # never 200: the query failed
}
GROUP = "/aws-glue/jobs/output"
# Values that exist in the seeded database, so the fuzzer also reaches the streaming path.
KNOWN = ("sales-orders-ingest", "FAILED", "glue_job", "lambda_function", "Invocations", GROUP,
         "jr_1", "orders", "succeeded", "failed", "WARN", "ERROR")  # fmt: skip


def _seed(svc: Services) -> None:
    t = NOW - timedelta(hours=2)
    with svc.sessions.begin() as s:
        s.add_all(
            [
                glue_job("sales-orders-ingest", NOW),
                job_run("jr_1", "sales-orders-ingest", "FAILED", t, error_message="=HYPERLINK()"),
                job_run("jr_2", "sales-orders-ingest", "SUCCEEDED", t - timedelta(hours=1)),
                metric_point("glue_job", "sales-orders-ingest", "RowsWritten", "Sum", t, 12.0),
                *lambda_minute("orders-api", t, invocations=10, errors=1, avg=12.0, p95=40.0),
                log_stream(GROUP, "jr_1"),
                log_event(GROUP, "jr_1", t, "ERROR boom 100% _done_"),
                athena_query("q-failed", NOW, state="FAILED"),
            ]
        )


@st.composite
def query_strings(draw: st.DrawFn, allowed: tuple[str, ...]) -> str:
    """A query string a person could type: known, unknown and repeated names, any values."""
    names = st.one_of(st.sampled_from(allowed or ("since",)), edge_text().filter(_no_surrogates))
    values = st.one_of(st.sampled_from(KNOWN), iso_text(), edge_text()).filter(_no_surrogates)
    pairs = draw(st.lists(st.tuples(names, values), max_size=5))
    parts = [f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs]
    # Raw, undecodable or odd pieces a hand-edited link may carry.
    parts += draw(
        st.lists(st.sampled_from(["%FF", "since=%C3", "=x", "a=b=c", "&", "until"]), max_size=2)
    )
    return "&".join(parts)


def _no_surrogates(text: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _request_keys(app: dash.Dash, path: str, query: str) -> set[str]:
    with app.server.test_request_context(path, query_string=query):
        from flask import request

        return set(request.args.keys())


@pytest.mark.parametrize("path", list(EXPORTS))
def test_an_export_answers_its_csv_or_one_line_naming_the_parameter(
    fuzz_app: dash.Dash, fuzz_svc: Services, path: str
) -> None:
    _seed(fuzz_svc)
    client = fuzz_app.server.test_client()
    header_start = HEADER_STARTS[path]

    @settings(max_examples=examples(60))
    @given(query=query_strings(EXPORTS[path]))
    @example(query="since=0001-01-01T00:00:00%2B01:00")
    @example(query="until=0001-01-01T00:00:00Z")
    @example(query="job=a%00b")
    @example(query="q=%00")
    @example(query="name=%00&resource_type=glue_job")
    @example(query="a%0Ab=1")
    def check(query: str) -> None:
        response = client.get(f"{path}?{query}")
        body = response.get_data(as_text=True)  # a streamed body fails here if it breaks mid-way
        assert response.status_code in (200, 400, 404), (response.status_code, body)
        if response.status_code == 200:
            assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
            if header_start is not None:
                assert body.encode().startswith(header_start), body[:200]
            return
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert body.endswith("\n") and body.count("\n") == 1, body  # one line
        named = body.split(": ", 1)[0]
        shown = {params.shown_name(k) for k in _request_keys(fuzz_app, path, query)}
        assert named in shown | {"query_execution_id"}, body

    check()


@settings(max_examples=examples(200))
@given(
    values=st.dictionaries(
        st.sampled_from(params.WINDOW_PARAMS), st.one_of(iso_text(), edge_text()), max_size=2
    )
)
@example(values={"until": "0001-01-01T12:00:00"})
@example(values={"since": "0001-01-01T00:00:00+01:00"})
def test_a_window_is_half_open_and_aware_or_a_bad_parameter(values: dict[str, str]) -> None:
    window, refused = attempt(lambda: params.parse_window(values, NOW), params.BadParameter)
    if refused is not None:
        assert refused.param in params.WINDOW_PARAMS and str(refused).startswith(
            f"{refused.param}: "
        )
        return
    assert window.since < window.until
    assert window.since.utcoffset() == timedelta(0) == window.until.utcoffset()


def test_an_athena_export_of_any_id_is_its_csv_or_one_line(
    fuzz_app: dash.Dash, fuzz_svc: Services
) -> None:
    """The execution id is a path segment, which the parameter checks never saw: `a%00b`
    reached PostgreSQL as a NUL (500)."""
    _seed(fuzz_svc)
    client = fuzz_app.server.test_client()

    @settings(max_examples=examples(60))
    @given(raw=st.one_of(edge_text(), hostile_text(), st.sampled_from(["q-failed", "q-1"])))
    @example(raw="a\x00b")
    def check(raw: str) -> None:
        segment = quote(raw, safe="", errors="surrogatepass")
        response = client.get(f"/export/athena/{segment}.csv")
        body = response.get_data(as_text=True)
        if response.status_code != 404 or not body.startswith("query_execution_id: "):
            # '/' or '' leave the route (Flask's own 404 page or the app's shell): not ours
            assert response.status_code in (200, 400, 404), (response.status_code, body[:200])
            return
        assert body.count("\n") == 1, body

    check()
