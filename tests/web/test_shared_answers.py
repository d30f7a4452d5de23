"""Viewers asking the same refresh at the same moment share one answer (per worker)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import dash
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import callbacks.shell as shell_callbacks
from dashapp.app import create_app
from dashapp.aws.clients import AwsClients
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.db import make_session_factory
from dashapp.services import Services
from dashapp.web.callback_requests import UPDATE_PATH
from dashapp.web.shared_answers import SHAREABLE, SharedAnswers, first_output, request_key
from layouts.shell import FRESHNESS, REFRESH
from tests.web.conftest import NOW
from tests.web.seed import collector

TICK = f"{REFRESH}.n_intervals"


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def tick_body(app: dash.Dash, first: str, n: int) -> dict[str, Any]:
    """What dash-renderer sends for the timer tick of the callback whose first output is
    `first` (a callback with only the timer as input)."""
    key = next(k for k in app.callback_map if first_output(k) == first)
    outputs = [
        {"id": o.rpartition(".")[0], "property": o.rpartition(".")[2]}
        for o in key.strip(".").split("...")
    ]
    return {
        "output": key,
        "outputs": outputs,
        "inputs": [{"id": REFRESH, "property": "n_intervals", "value": n}],
        "changedPropIds": [TICK],
        "state": [],
    }


def freshness_text(response: Any) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["response"][FRESHNESS]["children"])


@pytest.fixture
def app_sharing(
    db_url: str, make_services: Callable[[Settings], Services]
) -> Callable[[float], dash.Dash]:
    def make(seconds: float) -> dash.Dash:
        settings = Settings(database_url=db_url, shared_answer_s=seconds, _env_file=None)
        return create_app(settings, services=make_services(settings))

    return make


def test_viewers_ticking_within_the_window_get_one_answer_later_ones_a_new_one(
    app_sharing: Callable[[float], dash.Dash], sessions: sessionmaker[Session]
) -> None:
    app = app_sharing(60)
    client = app.server.test_client()
    body = tick_body(app, f"{FRESHNESS}.children", 1)
    assert "No collector has reported yet" in freshness_text(client.post(UPDATE_PATH, json=body))
    with sessions.begin() as session:
        session.add(collector("glue_runs", NOW, ok_ago_s=12))
    # Another tab, at its 7th tick: the same refresh, answered with the first one's answer.
    other = tick_body(app, f"{FRESHNESS}.children", 7)
    assert "No collector has reported yet" in freshness_text(client.post(UPDATE_PATH, json=other))

    # Without sharing the same two requests see the new row: what was shared was the answer.
    alone = app_sharing(0).server.test_client()
    assert "No collector has reported yet" not in freshness_text(alone.post(UPDATE_PATH, json=body))


def test_many_viewers_asking_at_once_wait_for_one_computation(
    app_sharing: Callable[[float], dash.Dash], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_sharing(60)
    real = shell_callbacks.freshness_outputs
    computed: list[int] = []

    def slow(svc: Services) -> Any:
        computed.append(1)
        time.sleep(0.3)  # long enough for every other viewer to arrive meanwhile
        return real(svc)

    monkeypatch.setattr(shell_callbacks, "freshness_outputs", slow)
    answers: list[str] = []

    def viewer(n: int) -> None:
        body = tick_body(app, f"{FRESHNESS}.children", n)
        answers.append(freshness_text(app.server.test_client().post(UPDATE_PATH, json=body)))

    threads = [threading.Thread(target=viewer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 8 and len(set(answers)) == 1
    assert len(computed) == 1


def test_a_failed_computation_is_not_shared(
    app_sharing: Callable[[float], dash.Dash], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_sharing(60)
    client = app.server.test_client()
    body = tick_body(app, f"{FRESHNESS}.children", 1)

    def broken(svc: Services) -> Any:
        raise RuntimeError("boom")

    real = shell_callbacks.freshness_outputs
    monkeypatch.setattr(shell_callbacks, "freshness_outputs", broken)
    assert client.post(UPDATE_PATH, json=body).status_code == 500
    monkeypatch.setattr(shell_callbacks, "freshness_outputs", real)
    assert "No collector has reported yet" in freshness_text(client.post(UPDATE_PATH, json=body))


def test_an_answer_expires_after_its_window() -> None:
    ticks = Ticks()
    answers = SharedAnswers(1.0, clock=ticks)
    key = (1, "refresh")
    assert answers.claim(key) is None  # nobody has it: this request computes it
    answers.settle(key, 200, b"first", "application/json")
    ticks.t += 0.9
    found = answers.claim(key)
    assert found is not None and not isinstance(found, threading.Event)
    assert found.body == b"first"
    ticks.t += 0.2
    assert answers.claim(key) is None  # 1.1 s old: computed again
    assert answers.bytes_held == 0


def test_while_one_computes_the_others_get_something_to_wait_on() -> None:
    answers = SharedAnswers(1.0, clock=Ticks())
    key = (1, "refresh")
    assert answers.claim(key) is None
    waiting = answers.claim(key)
    assert isinstance(waiting, threading.Event) and not waiting.is_set()
    answers.settle(key, 0, b"", "")  # the computation failed
    assert waiting.is_set()
    assert answers.claim(key) is None  # the waiter computes it itself


def test_answers_are_bounded_in_bytes_oldest_dropped_first() -> None:
    answers = SharedAnswers(60.0, max_bytes=100, clock=Ticks())
    for name in ("a", "b", "c"):
        assert answers.claim((1, name)) is None
        answers.settle((1, name), 200, name.encode() * 40, "application/json")
    assert answers.bytes_held == 80
    assert answers.claim((1, "a")) is None  # dropped for "c"
    assert not isinstance(answers.claim((1, "c")), threading.Event | None)
    answers.settle((1, "huge"), 200, b"x" * 101, "application/json")
    assert answers.claim((1, "huge")) is None  # larger than the whole bound: never kept


def test_only_marked_callbacks_share_and_only_with_the_same_role_and_inputs() -> None:
    marked = {"smd-freshness.children"}
    key = "..smd-freshness.children...smd-freshness.className.."

    def body(n: int, extra: Any = None, output: str = key) -> dict[str, Any]:
        inputs = [{"id": REFRESH, "property": "n_intervals", "value": n}]
        if extra is not None:
            inputs.append({"id": "range", "property": "data", "value": extra})
        return {"output": output, "inputs": inputs, "changedPropIds": [TICK]}

    assert request_key(body(1), 1, marked, REFRESH) == request_key(body(9), 1, marked, REFRESH)
    assert request_key(body(1), 1, marked, REFRESH) != request_key(body(1), 2, marked, REFRESH)
    assert request_key(body(1, "24h"), 1, marked, REFRESH) != request_key(
        body(1, "7d"), 1, marked, REFRESH
    )
    assert request_key(body(1, output="upload-trail.children"), 1, marked, REFRESH) is None
    assert request_key(["not", "a", "body"], 1, marked, REFRESH) is None


def test_the_pages_viewers_leave_open_share_and_the_upload_trail_does_not(
    app_sharing: Callable[[float], dash.Dash],
) -> None:
    marked = app_sharing(1).server.extensions[SHAREABLE]
    assert {
        "smd-freshness.children",
        "overview-tile-running-value.children",
        "wall-clock.children",
        "job-info.children",
    } <= marked
    assert not any(m.startswith("upload") for m in marked)  # it reads who is asking


def test_an_answer_given_while_the_database_failed_is_not_shared(
    db_url: str, unreachable_engine: Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=db_url, shared_answer_s=60, _env_file=None)
    svc = Services(
        settings=settings,
        engine=unreachable_engine,
        sessions=make_session_factory(unreachable_engine),
        aws=AwsClients(settings),
        clock=clock,
    )
    app = create_app(settings, services=svc)
    real = shell_callbacks.freshness_outputs
    computed: list[int] = []

    def counted(svc: Services) -> Any:
        computed.append(1)
        return real(svc)

    monkeypatch.setattr(shell_callbacks, "freshness_outputs", counted)
    client = app.server.test_client()
    for n in (1, 2):
        said = freshness_text(
            client.post(UPDATE_PATH, json=tick_body(app, f"{FRESHNESS}.children", n))
        )
        assert "unreachable" in said.lower() or "database" in said.lower(), said
    assert len(computed) == 2  # the second viewer asked the database again
