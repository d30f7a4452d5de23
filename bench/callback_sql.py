"""The baseline of the load benchmark: each recorded callback in-process, and its bare SQL.

Every distinct callback request the viewers send on a tick is posted once through the
app's own Flask test client (same settings, same database) with SQLAlchemy's cursor
events on, so the statements are exactly those the served callback runs for that
body; `bench/sqltiming.measure` then alternates the in-process call and the replay of
its bare SQL. Measured on a quiet server before the viewers start, it says what the
database alone costs and what HTTP, gunicorn and 200 viewers' contention add.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench.browser_capture import CALLBACK_PATH, PageTraffic, callback_label
from bench.sqltiming import Timing, measure
from bench.viewers import dash_error
from dashapp.app import create_app
from dashapp.config import Settings
from dashapp.services import Services


def tick_callbacks(pages: list[PageTraffic]) -> list[tuple[str, dict[str, Any]]]:
    """(label, body) of every callback of a tick, as the viewers label them."""
    return [
        (f"tick {p.path} {callback_label(b)}", b) for p in pages for wave in p.tick for b in wave
    ]


def baselines(settings: Settings, pages: list[PageTraffic], samples: int) -> dict[str, Timing]:
    """Timing (in-process ms, bare SQL ms) per tick callback label."""
    # Each sample computed, none shared: what one viewer's refresh costs on its own.
    settings = settings.model_copy(update={"shared_answer_s": 0.0})
    svc = Services.build(settings)
    app = create_app(settings, services=svc)
    client = app.server.test_client()
    by_body: dict[str, Timing] = {}
    out: dict[str, Timing] = {}
    try:
        for label, body in tick_callbacks(pages):
            key = json.dumps(body, sort_keys=True)
            if key not in by_body:
                by_body[key] = measure(svc.engine, label, _poster(client, body), samples)
            out[label] = by_body[key]
    finally:
        svc.engine.dispose()
    return out


def _poster(client: Any, body: dict[str, Any]) -> Callable[[], None]:
    def post() -> None:
        r = client.post(CALLBACK_PATH, json=body)
        error = dash_error(r.status_code, r.data)
        if error is not None:
            raise RuntimeError(f"{callback_label(body)}: {error}")

    return post
