"""Every server-side callback under random payloads, through `/_dash-update-component`.

A callback may answer its outputs, 204 (PreventUpdate) or a 4xx; an exception, which
Dash would turn into a 500 and the page into a silent error, fails the test with its
traceback. Inputs are what the components could send and, half the time, any JSON a
crafted request could carry. AWS is a closed port: every action fails as in an outage.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import dash
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dashapp.app import create_app
from dashapp.config import Settings
from dashapp.services import Services
from tests.reliability.conftest import NOW, examples
from tests.reliability.dash_payloads import update_requests
from tests.reliability.strategies import edge_text, json_values
from tests.web.seed import (
    athena_query,
    lambda_function,
    lambda_minute,
    log_event,
    log_stream,
    seed_demo,
)

EXAMPLES_PER_CALLBACK = 16


def _callback_keys() -> list[str]:
    app = create_app(Settings(database_url="sqlite://", _env_file=None))
    # Clientside callbacks are in the map too, but run in the browser.
    return sorted(k for k, spec in app.callback_map.items() if "callback" in spec)


def _short(key: str) -> str:
    first = key.strip(".").split("...")[0]
    return re.sub(r"[^A-Za-z0-9_.-]+", "", first)[:60]


KEYS = _callback_keys()


def _seed(svc: Services) -> None:
    t = NOW - timedelta(minutes=30)
    with svc.sessions.begin() as s:
        seed_demo(s, NOW)
        s.add_all(
            [
                lambda_function("orders-api", NOW),
                *lambda_minute("orders-api", t, invocations=10, errors=1, avg=12.0, p95=40.0),
                log_stream(
                    "/aws-glue/jobs/error", "jr_crm_2", resource_name="crm-customers-ingest"
                ),
                log_event("/aws-glue/jobs/error", "jr_crm_2", t, "ERROR AnalysisException"),
                athena_query("q-1", NOW),
                athena_query("q-running", NOW, state="RUNNING", completed_at=None),
            ]
        )


@pytest.mark.parametrize("key", KEYS, ids=[f"{i:02d}-{_short(k)}" for i, k in enumerate(KEYS)])
def test_a_callback_answers_any_payload_without_a_500(
    fuzz_app: dash.Dash, fuzz_svc: Services, key: str
) -> None:
    _seed(fuzz_svc)
    client = fuzz_app.server.test_client()
    spec = fuzz_app.callback_map[key]

    @settings(max_examples=examples(EXAMPLES_PER_CALLBACK))
    @given(crafted=st.booleans(), data=st.data())
    def check(crafted: bool, data: st.DataObject) -> None:
        body = data.draw(update_requests(key, spec, crafted), label="body")
        response = client.post("/_dash-update-component", json=body)
        # What the renderer sends is never refused as malformed; a crafted body may be.
        allowed = (200, 204, 400) if crafted else (200, 204)
        assert response.status_code in allowed, response.get_data(as_text=True)[:500]

    check()


def _mangled(body: dict[str, Any], how: str, junk: Any) -> Any:
    """`body` with one part of its envelope replaced by `junk` (or removed)."""
    mangled = dict(body)
    if how == "whole":
        return junk
    if how.startswith("drop:"):
        mangled.pop(how[5:], None)
    elif how.startswith("set:"):
        mangled[how[4:]] = junk
    elif how.startswith("entry:"):
        group = [list(g) if isinstance(g, list) else dict(g) for g in body[how[6:]]]
        if group and isinstance(group[0], dict):
            group[0] = {**group[0], "id": junk} if isinstance(junk, str) else junk
        mangled[how[6:]] = group
    return mangled


JSON = "application/json"
MANGLINGS = ["whole", "drop:output", "drop:outputs", "drop:inputs", "drop:state",
             "drop:changedPropIds", "set:output", "set:outputs", "set:inputs", "set:state",
             "set:changedPropIds", "entry:inputs", "entry:state"]  # fmt: skip


def test_a_request_of_any_shape_is_answered_or_refused_in_one_line(
    fuzz_app: dash.Dash, fuzz_svc: Services
) -> None:
    """The envelope itself (output key, lists of entries, ids, changedPropIds) under random
    damage: Dash's dispatch raised KeyError, TypeError or CallbackException (500s) for a
    body it could not unpack; now that is a 400 naming the part, before any callback runs."""
    _seed(fuzz_svc)
    client = fuzz_app.server.test_client()
    junk = st.one_of(
        json_values(4),
        st.lists(
            st.one_of(edge_text(), st.just("{bad.n_clicks"), st.just('{"a":1}.x')), max_size=3
        ),
    )

    @settings(max_examples=examples(150))
    @given(key=st.sampled_from(KEYS), how=st.sampled_from(MANGLINGS), data=st.data())
    @example(key=KEYS[0], how="whole", data=None)
    def check(key: str, how: str, data: st.DataObject | None) -> None:
        body: Any = None  # the JSON document `null`
        if data is not None:
            valid = data.draw(update_requests(key, fuzz_app.callback_map[key], False))
            body = _mangled(valid, how, data.draw(junk, label="junk"))
        # As JSON text: the test client would send `json=None` as no body at all.
        response = client.post("/_dash-update-component", data=json.dumps(body), content_type=JSON)
        assert response.status_code in (200, 204, 400), response.get_data(as_text=True)[:300]
        if response.status_code == 400:
            assert response.get_data(as_text=True).count("\n") == 1

    check()


@pytest.mark.parametrize(
    "body",
    [
        {"output": "nope"},
        {},
        [],
        "x",
        {"output": "smd-identity.children"},
        {"output": "smd-identity.children", "inputs": "x"},
        {
            "output": "smd-identity.children",
            "outputs": {"id": "smd-identity", "property": "children"},
            "inputs": [{"id": "smd-url"}],
        },
        {"output": "smd-identity.children", "outputs": [], "inputs": [], "changedPropIds": []},
        {
            "output": "smd-identity.children",
            "outputs": {"id": "smd-identity", "property": "children"},
            "inputs": [{"id": "smd-url", "property": "pathname", "value": "/"}],
            "changedPropIds": ["{bad.pathname"],
        },
        {
            "output": "smd-identity.children",
            "outputs": {"id": "somebody-else", "property": "children"},
            "inputs": [{"id": "smd-url", "property": "pathname", "value": "/"}],
        },
    ],
    ids=lambda b: json.dumps(b)[:40],
)
def test_a_body_dash_cannot_unpack_is_a_400_line(fuzz_app: dash.Dash, body: Any) -> None:
    """Each of these raised inside Dash's dispatch (KeyError, TypeError, JSONDecodeError in
    `ctx.triggered_id`, "Inputs/Output do not match callback definition"): 500s."""
    response = fuzz_app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("Malformed callback request: ")


@pytest.mark.parametrize("saved", ["²", "99999999999999999999", "-1", "1.5"])
def test_a_saved_link_that_names_no_saved_query_leaves_the_editor_as_it_is(
    fuzz_app: dash.Dash, saved: str
) -> None:
    """`/athena?saved=²` reached int('²') (str.isdigit says yes) and a 20-digit id overflowed
    the database's integer: both answered 500 instead of opening the editor."""
    (key,) = [
        k
        for k, spec in fuzz_app.callback_map.items()
        if "callback" in spec and spec["inputs"] == [{"id": "athena-opened", "property": "data"}]
    ]
    outputs = [
        {"id": o.component_id, "property": o.component_property}
        for o in fuzz_app.callback_map[key]["output"]
    ]
    body = {
        "output": key,
        "outputs": outputs,
        "inputs": [{"id": "athena-opened", "property": "data", "value": {"saved": saved}}],
        "state": [],
        "changedPropIds": ["athena-opened.data"],
    }
    response = fuzz_app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "athena-sql" not in response.json["response"]  # no query opened, the editor kept
