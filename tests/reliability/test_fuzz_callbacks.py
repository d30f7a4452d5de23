"""Every server-side callback under random payloads, through `/_dash-update-component`.

A callback may answer its outputs, 204 (PreventUpdate) or a 4xx; an exception, which
Dash would turn into a 500 and the page into a silent error, fails the test with its
traceback. Inputs are what the components could send and, half the time, any JSON a
crafted request could carry. AWS is a closed port: every action fails as in an outage.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import dash
import pytest
from hypothesis import given, settings

from dashapp.app import create_app
from dashapp.config import Settings
from dashapp.services import Services
from tests.reliability.conftest import NOW
from tests.reliability.dash_payloads import update_requests
from tests.web.seed import (
    athena_query,
    lambda_function,
    lambda_minute,
    log_event,
    log_stream,
    seed_demo,
)

EXAMPLES_PER_CALLBACK = 8


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

    @settings(max_examples=EXAMPLES_PER_CALLBACK)
    @given(body=update_requests(key, spec))
    def check(body: dict[str, Any]) -> None:
        response = client.post("/_dash-update-component", json=body)
        assert response.status_code in (200, 204, 400, 403), response.get_data(as_text=True)[:500]

    check()


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
