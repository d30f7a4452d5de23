"""Every server-side callback and HTTP route of an app, asked while its database is sick.

Used by the database-fault tests (down, read-only): an answer is fine when it is 200,
204, 400 or 403 (a callback's outputs, PreventUpdate, a refusal) or, for a route, a
503 whose body names the database in one line; an exception or a 500 is the defect.
The app propagates exceptions, so each problem is reported with its cause.
"""

from __future__ import annotations

from typing import Any

from dash._utils import stringify_id
from flask.testing import FlaskClient
from hypothesis import given, settings

from tests.reliability.dash_payloads import _dependency, _wild_kind, update_requests
from tests.reliability.test_fuzz_callbacks import KEYS, _short

OK_CALLBACK = (200, 204, 400, 403)
# Reads of the database a user or a probe makes outside the pages' callbacks.
ROUTES = (
    "/",
    "/jobs/sales-orders-ingest",
    "/export/job-runs.csv",
    "/export/metrics.csv",
    "/export/lambda-summary.csv",
    "/export/log-events.csv",
    "/export/uploads.csv",
    "/export/job-summary.csv",
    "/export/athena/q-1.csv",
    "/metrics",
)


def callbacks_that_fail(client: FlaskClient, callback_map: dict[str, Any], examples: int) -> dict:
    """{callback: what went wrong} over `examples` plausible payloads each (derandomized)."""
    problems: dict[str, str] = {}
    for key in KEYS:
        spec = callback_map[key]

        @settings(max_examples=examples, derandomize=True, database=None)
        @given(body=update_requests(key, spec, crafted=False))
        def check(body: dict[str, Any]) -> None:
            response = client.post("/_dash-update-component", json=body)
            text = response.get_data(as_text=True)
            assert response.status_code in OK_CALLBACK, f"{response.status_code}: {text[:200]}"

        try:
            check()
        except Exception as e:  # noqa: BLE001 - collected: every callback is asked
            problems[_short(key)] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    return problems


def route_answers(client: FlaskClient) -> dict[str, tuple[int, str]]:
    """{path: (status, first line of the body)}; an exception is recorded as status 0."""
    answers: dict[str, tuple[int, str]] = {}
    for path in ROUTES:
        try:
            response = client.get(path)
            body = b"".join(response.response).decode(errors="replace")  # type: ignore[arg-type]
            answers[path] = (response.status_code, (body.strip().splitlines() or [""])[0][:200])
        except Exception as e:  # noqa: BLE001 - recorded
            answers[path] = (0, f"{type(e).__name__}: {str(e).splitlines()[0][:200]}")
    return answers


def _concrete(component_id: Any, key_value: str, count: int) -> Any:
    """One id (str or dict) for MATCH, a list of `count` ids for ALL/ALLSMALLER."""
    if not isinstance(component_id, dict):
        return component_id
    kinds = {_wild_kind(v) for v in component_id.values()} - {None}
    if not kinds:
        return dict(component_id)

    def make(suffix: str) -> dict[str, Any]:
        return {
            k: (f"{key_value}{suffix}" if _wild_kind(v) else v) for k, v in component_id.items()
        }

    if kinds == {"MATCH"}:
        return make("")
    return [make(f"-{i}" if i else "") for i in range(count)]


def update_body(
    callback_map: dict[str, Any], output: str, values: dict[str, Any], wildcard: str = ""
) -> dict[str, Any]:
    """What the browser sends to run the callback whose output key holds `output`, its inputs
    and state valued by property name (`values`, None otherwise); MATCH ids get `wildcard`."""
    key = next(k for k, s in callback_map.items() if output in k and "callback" in s)
    spec = callback_map[key]

    def entry(dep: Any, with_value: bool) -> dict[str, Any]:
        component_id, prop = _dependency(dep)
        out = {"id": _concrete(component_id, wildcard, 1), "property": prop}
        return {**out, "value": values.get(prop)} if with_value else out

    outs = spec["output"] if isinstance(spec["output"], list) else [spec["output"]]
    outputs: Any = [entry(o, False) for o in outs]
    inputs = [entry(i, True) for i in spec["inputs"]]
    return {
        "output": key,
        "outputs": outputs if isinstance(spec["output"], list) else outputs[0],
        "inputs": inputs,
        "state": [entry(s, True) for s in spec["state"]],
        "changedPropIds": [f"{stringify_id(i['id'])}.{i['property']}" for i in inputs[:1]],
    }
