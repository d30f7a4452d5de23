"""Viewers asking the same refresh at the same moment share one answer.

Two hundred wall screens and browsers on the Overview each send the same callbacks on
every tick of the refresh timer, and each answer reads the database and builds the same
cards: 150 ms of a core at 1,000 jobs, so 2 cores carried about two dozen viewers. A
callback marked `shareable` (its answer depends on its inputs and the asker's role, on
nothing else) asked with the same body by the same role within SMD_SHARED_ANSWER_S of
an answer gets that answer; asked while that answer is being computed, it waits for it.
So a worker computes one answer per distinct refresh and second, however many viewers
ask. The timer's tick count, which differs from tab to tab and which no callback reads,
is left out of the comparison. A callback that reads who asks (the upload trail) is
never marked. An answer given while the database failed (a callback's "Database
unreachable" notice is a 200) is not shared: the next viewer asks the database again.
Answers are kept per worker process, bounded in bytes.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dash import Dash
from dash._utils import split_callback_id
from dash.dependencies import DashDependency
from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import Engine, event

from dashapp.actions.auth import current_identity
from dashapp.web.callback_requests import UPDATE_PATH

SHAREABLE = "smd_shareable_outputs"  # app.server.extensions: first outputs, "id.property"
MAX_BYTES = 32 * 1024 * 1024  # per worker: a few hundred answers of the largest page
WAIT_S = 30.0  # a computation taking longer has failed in a way the waiter cannot see
_CLAIMED = "smd_shared_answer_key"
_DATABASE_FAILED = "smd_database_failed"

Key = tuple[int, str]


def shareable(app: Dash, *first_outputs: DashDependency) -> None:
    """Declare that the callbacks with these first outputs answer the same to everyone of
    a role who sends the same inputs and state."""
    marked = app.server.extensions.setdefault(SHAREABLE, set())
    marked.update(str(o) for o in first_outputs)


def first_output(callback_key: str) -> str:
    """The first output of a callback map key ("..a.children...b.href.." or "a.children")."""
    parts = split_callback_id(callback_key)
    first = parts[0] if isinstance(parts, list) else parts
    return f"{first['id']}.{first['property']}"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str
    expires: float


class SharedAnswers:
    """Answers by key until they expire, and which keys are being computed right now."""

    def __init__(
        self, ttl_s: float, max_bytes: int = MAX_BYTES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: OrderedDict[Key, Answer] = OrderedDict()
        self._pending: dict[Key, threading.Event] = {}
        self._bytes = 0

    @property
    def bytes_held(self) -> int:
        return self._bytes

    def claim(self, key: Key) -> Answer | threading.Event | None:
        """A fresh answer; or an event set when the request computing it is done; or None:
        the caller computes it and must `settle` the key, answer or not."""
        with self._lock:
            found = self._answers.get(key)
            if found is not None:
                if found.expires > self._clock():
                    return found
                self._drop(key)
            pending = self._pending.get(key)
            if pending is not None:
                return pending
            self._pending[key] = threading.Event()
            return None

    def settle(self, key: Key, status: int, body: bytes, content_type: str) -> None:
        """Keep a computed answer (or, with status 0, none: the computation failed)."""
        with self._lock:
            done = self._pending.pop(key, None)
            if status and len(body) <= self.max_bytes:
                self._drop(key)
                self._answers[key] = Answer(status, body, content_type, self._clock() + self.ttl_s)
                self._bytes += len(body)
                self._evict()
        if done is not None:
            done.set()

    def _drop(self, key: Key) -> None:
        old = self._answers.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)

    def _evict(self) -> None:
        # Oldest first: answers are kept in the order they were computed.
        now = self._clock()
        while self._answers:
            key, oldest = next(iter(self._answers.items()))
            if oldest.expires > now and self._bytes <= self.max_bytes:
                return
            self._drop(key)


def request_key(body: Any, role: int, marked: set[str], timer: str) -> Key | None:
    """The key of a callback request that may share its answer, or None."""
    if not isinstance(body, Mapping):
        return None
    output = body.get("output")
    if not isinstance(output, str) or first_output(output) not in marked:
        return None
    inputs = body.get("inputs")
    if isinstance(inputs, list):
        body = {
            **body,
            "inputs": [
                {**i, "value": None}
                if isinstance(i, Mapping)
                and i.get("id") == timer
                and i.get("property") == "n_intervals"
                else i
                for i in inputs
            ],
        }
    try:
        return role, json.dumps(body, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def install(server: Flask, ttl_s: float, timer: str, engine: Engine) -> SharedAnswers | None:
    """Share answers of marked callbacks for `ttl_s` seconds (0: never); `timer` is the id of
    the refresh interval whose tick count is left out; an error of `engine` during a
    request keeps its answer unshared. Install after the sign-in gate and the callback
    shape check: only requests they let through are shared."""
    if ttl_s <= 0:
        return None
    answers = SharedAnswers(ttl_s)

    def _database_failed(_context: Any) -> None:
        if has_request_context():
            g.setdefault(_DATABASE_FAILED, True)

    event.listen(engine, "handle_error", _database_failed)

    def _respond(answer: Answer) -> Response:
        return Response(answer.body, answer.status, content_type=answer.content_type)

    def _share() -> Response | None:
        if request.path != UPDATE_PATH or request.method != "POST" or not request.is_json:
            return None
        marked = server.extensions.get(SHAREABLE)
        if not marked:
            return None
        role = int(current_identity().role)
        key = request_key(request.get_json(silent=True), role, marked, timer)
        if key is None:
            return None
        for _ in range(2):
            got = answers.claim(key)
            if got is None:
                g.setdefault(_CLAIMED, key)
                return None
            if isinstance(got, Answer):
                return _respond(got)
            got.wait(WAIT_S)
        return None  # still not there: answer this one alone

    def _keep(response: Response) -> Response:
        key = g.pop(_CLAIMED, None)
        if key is not None:
            kept = (
                response.status_code in (200, 204)
                and not response.direct_passthrough
                and "Set-Cookie" not in response.headers
                and not g.get(_DATABASE_FAILED)
            )
            if kept:
                answers.settle(
                    key, response.status_code, response.get_data(), response.content_type
                )
            else:
                answers.settle(key, 0, b"", "")
        return response

    def _release(_exc: BaseException | None) -> None:
        key = g.pop(_CLAIMED, None)  # still claimed: the request ended in an exception
        if key is not None:
            answers.settle(key, 0, b"", "")

    server.before_request(_share)
    server.after_request(_keep)
    server.teardown_request(_release)
    return answers
