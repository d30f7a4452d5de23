"""The Lambda monitor's table equals lambda-summary.csv; charts, comparison and their links."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from dashapp.queries import lambda_ as lq
from dashapp.queries.filters import Window
from dashapp.services import Services
from layouts.timerange import range_ids
from pages.lambda_monitor import layout as lm
from pages.lambda_monitor.callbacks import charts_view, compare_view, table_view
from tests.web.conftest import NOW
from tests.web.seed import lambda_function, lambda_minute, metric_point
from tests.web.tree import by_id, of_type, text


def _seed(svc: Services) -> None:
    with svc.sessions.begin() as s:
        s.add_all([lambda_function(n, NOW) for n in ("orders-api", "thumbnailer", "idle-fn")])
        for i, (calls, errors, p95) in enumerate(
            [(100, 3, 120.5), (300, 0, 80.25), (50, 5, 900.0)]
        ):
            ts = NOW - timedelta(minutes=30 - i)
            s.add_all(
                lambda_minute(
                    "orders-api",
                    ts,
                    invocations=calls,
                    errors=errors,
                    avg=p95 / 2,
                    p95=p95,
                    p99=p95 * 1.3,
                )
            )
            s.add(
                metric_point(
                    "lambda_function", "orders-api", "ConcurrentExecutions", "Maximum", ts, 4 + i
                )
            )
            s.add(metric_point("lambda_function", "orders-api", "Duration", "Maximum", ts, p95 * 2))
        s.add_all(
            lambda_minute(
                "thumbnailer",
                NOW - timedelta(minutes=10),
                invocations=7,
                throttles=2,
                avg=1000 / 3,
                p95=400.123456,
                p99=410,
            )
        )


def _csv_rows(app, window: Window) -> list[dict[str, str]]:
    since, until = (t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in (window.since, window.until))
    response = app.server.test_client().get(
        f"/export/lambda-summary.csv?since={since}&until={until}"
    )
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_table_rows_equal_the_lambda_summary_csv(app, svc: Services) -> None:
    _seed(svc)
    view = table_view(svc, "1h")
    window = Window(NOW - timedelta(hours=1), NOW)
    expected = _csv_rows(app, window)
    assert [r["function_name"] for r in view.rows] == [r["function_name"] for r in expected]
    assert len(expected) == 3
    for row, want in zip(view.rows, expected, strict=True):
        for field, cell in want.items():
            if field == "function_name":
                continue
            got = row[field]
            assert (got is None and cell == "") or got == pytest.approx(float(cell), abs=0), field
    orders = next(r for r in view.rows if r["function_name"] == "orders-api")
    assert orders["invocations"] == 450 and orders["errors"] == 8
    assert orders["concurrency_max"] == 6
    assert parse_qs(urlsplit(view.href).query) == {
        "since": ["2026-11-25T17:32:17Z"],
        "until": ["2026-11-25T18:32:18Z"],
    }


def test_function_charts_have_text_alternatives_and_csv_links(svc: Services) -> None:
    _seed(svc)
    children = charts_view(svc, "orders-api", "1h", dark=False)
    figures = of_type(children, "Figure")
    assert len(figures) == 4
    captions = [text(of_type(f, "Figcaption")) for f in figures]
    assert "Invocations: 450 in total, peak 300 count" in captions[0]
    assert "Errors: 8 in total" in captions[0]
    assert "p95: peak 900 ms" in captions[1]
    assert "Peak concurrency: peak 6 executions" in captions[3]
    links = [a.href for a in of_type(figures[0], "A")]
    assert [parse_qs(urlsplit(h).query)["metric"] for h in links] == [["Invocations"], ["Errors"]]
    graph = of_type(figures[1], "Graph")[0]
    assert [t.name for t in graph.figure.data] == ["Average", "p95", "p99", "Maximum"]


def test_no_function_selected_explains_how_to_pick_one(svc: Services) -> None:
    assert "Select a row of the table" in text(charts_view(svc, None, "1h", dark=True))


def test_comparison_overlays_one_series_per_function(svc: Services) -> None:
    _seed(svc)
    children = compare_view(svc, ["orders-api", "thumbnailer"], "invocations", "1h", dark=True)
    graph = of_type(children, "Graph")[0]
    assert [t.name for t in graph.figure.data] == ["orders-api", "thumbnailer"]
    assert list(graph.figure.data[1].y) == [7]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["a"], "Pick at least 2 functions to compare."),
        (list("abcdefg"), "Compare at most 6 functions at once; 7 are selected."),
    ],
)
def test_comparison_needs_two_to_six_functions(names: list[str], message: str) -> None:
    with pytest.raises(lq.CompareError, match=message):
        lq.validate_compare(names, "invocations")


def test_comparison_refuses_an_unknown_metric() -> None:
    with pytest.raises(lq.CompareError, match="unknown metric 'cpu'"):
        lq.validate_compare(["a", "b"], "cpu")


def test_bucketing_keeps_counts_and_worst_minutes() -> None:
    t0 = NOW.replace(minute=0, second=0)
    points = [(t0 + timedelta(minutes=i), float(i)) for i in range(10)]
    assert lq.bucketed(points, "Sum", 300) == [(t0, 10.0), (t0 + timedelta(minutes=5), 35.0)]
    assert lq.bucketed(points, "p95", 300) == [(t0, 4.0), (t0 + timedelta(minutes=5), 9.0)]
    assert lq.bucketed(points, "Average", 300)[0] == (t0, 2.0)
    assert lq.bucketed(points, "Sum", 60) == points


def test_describe_series_without_points() -> None:
    assert lq.describe_series(lq.Series("Throttles", "Throttles", "Sum", []), "count") == (
        "Throttles: no datapoints in the range."
    )


def test_layout_reads_the_url() -> None:
    page = lm.layout(range="6h", fn="orders-api", compare="a, b,,c", metric="duration_p95")
    assert by_id(page, lm.FUNCTION).value == "orders-api"
    assert by_id(page, lm.COMPARE).value == ["a", "b", "c"]
    assert by_id(page, lm.COMPARE_METRIC).value == "duration_p95"
    assert by_id(page, range_ids(lm.PAGE).value).data == "6h"
    default = lm.layout(metric="nonsense")
    assert by_id(default, lm.COMPARE_METRIC).value == "invocations"
    assert by_id(default, range_ids(lm.PAGE).value).data == "24h"
    # Every chart series also differs by line style, not colour only.
    assert len({lm._dash(i) for i in range(6)}) == 6


def test_a_click_or_a_selection_picks_the_function_to_chart() -> None:
    from dash import no_update

    from pages.lambda_monitor.callbacks import selected_function

    clicked = {"rowId": "thumbnailer", "colId": "function_name"}
    assert selected_function([], clicked, {"lambda-grid.cellClicked": 1}) == "thumbnailer"
    rows = [{"function_name": "orders-api"}]
    assert selected_function(rows, None, {"lambda-grid.selectedRows": 1}) == "orders-api"
    assert selected_function([], None, {"lambda-grid.selectedRows": 1}) is no_update
