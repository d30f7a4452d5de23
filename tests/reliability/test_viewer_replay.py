"""What the virtual viewers of the load and soak benchmarks replay, and what they count.

Why: the load figures are only as true as the replay. A callback chained on another's
answer must wait for it, the refresh timer must count up as in a browser, and a panel
saying the database failed is an error even though it came with HTTP 200.
"""

from __future__ import annotations

from typing import Any

from bench.browser_capture import Seen, split_phases, waves
from bench.soakrun import Series
from bench.viewers import dash_error, tick_body


def _callback(output: str, tick: int | None, start: float, end: float) -> Seen:
    body: dict[str, Any] = {
        "output": f"{output}.children",
        "outputs": {"id": output, "property": "children"},
        "inputs": [{"id": "smd-refresh", "property": "n_intervals", "value": tick}],
        "changedPropIds": ["smd-refresh.n_intervals"] if tick else [],
    }
    return Seen("POST", "/_dash-update-component", body, start, end)


def test_a_request_sent_after_an_answer_waits_for_its_wave() -> None:
    seen = [_callback("a", 1, 0, 50), _callback("b", 1, 5, 40), _callback("grid", 1, 60, 90)]
    assert [[b["outputs"]["id"] for b in w] for w in waves(seen)] == [["a", "b"], ["grid"]]


def test_phases_split_at_the_first_and_second_tick_of_the_refresh_timer() -> None:
    seen = [
        Seen("GET", "/wall", None, 0, 10),
        _callback("mount", None, 20, 30),
        _callback("tick", 1, 5000, 5030),
        _callback("chained", None, 5040, 5050),
        _callback("tick", 2, 10000, 10030),
    ]
    traffic = split_phases("/wall", seen)
    assert traffic.gets == ["/wall"]
    assert [[b["outputs"]["id"] for b in w] for w in traffic.load] == [["mount"]]
    assert [[b["outputs"]["id"] for b in w] for w in traffic.tick] == [["tick"], ["chained"]]


def test_the_replayed_tick_counts_up_and_leaves_the_recording_alone() -> None:
    recorded = _callback("a", 1, 0, 1).body
    assert recorded is not None
    assert tick_body(recorded, 7)["inputs"][0]["value"] == 7
    assert recorded["inputs"][0]["value"] == 1


def test_errors_are_failed_requests_and_panels_naming_a_database_failure() -> None:
    assert dash_error(200, b'{"multi": true, "response": {"x": {"children": "ok"}}}') is None
    assert dash_error(204, b"") is None
    assert dash_error(500, b"Internal Server Error") is not None
    assert dash_error(200, b"<html>sign in</html>") is not None
    failed = b'{"multi": true, "response": {"x": {"children": ["Database unreachable: ", "x"]}}}'
    assert dash_error(200, failed) is not None


def test_growth_is_read_from_the_fitted_line_not_the_last_sample() -> None:
    flat = Series("flat", [(float(t), 100.0 + (5.0 if t == 50 else 0.0)) for t in range(51)])
    assert abs(flat.fitted_growth_mb()) < 1.0 < flat.end_mb() - flat.start_mb()
    leaking = Series("leak", [(float(t), 100.0 + 0.2 * t) for t in range(51)])
    assert abs(leaking.fitted_growth_mb() - 10.0) < 1e-6
