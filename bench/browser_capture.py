"""Record, with real Chromium, the requests a browser viewer of a page sends.

Why record rather than build the bodies from `app.callback_map`: what dash-renderer
sends on a tick (which callbacks, in which order, which ones only after another's
answer, e.g. the job grid's `getRowsRequest` after the clientside reload) is decided
in the browser. Replaying what it really sent makes the virtual viewers of
`bench/viewers.py` load the server exactly as people's browsers do.

A page is opened, its load requests are kept (the document, `/_dash-layout`,
`/_dash-dependencies`, and the callbacks Dash fires when the page mounts), then the
requests of one whole tick of the shared refresh timer: from the first request whose
`changedPropIds` name `smd-refresh.n_intervals` with n_intervals == 1 to the last one
sent before tick 2. Requests are grouped in waves: a request sent after an answer of
its own phase had arrived depends on it (dash-renderer chains callbacks), so the
replay sends a wave only once the previous one is answered.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, sync_playwright

from bench.apart import in_own_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REFRESH_PROP = "smd-refresh.n_intervals"
CALLBACK_PATH = "/_dash-update-component"
#: Static files a browser caches after its first visit; viewers do not fetch them again.
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon")


@dataclass
class Seen:
    """One request the page made."""

    method: str
    path: str
    body: dict[str, Any] | None
    start_ms: float
    end_ms: float | None = None

    def refresh_tick(self) -> int | None:
        """n_intervals when this callback request was sent by the refresh timer."""
        if not self.body or REFRESH_PROP not in self.body.get("changedPropIds", []):
            return None
        for entry in _flat(self.body.get("inputs", [])):
            if entry.get("id") == "smd-refresh" and entry.get("property") == "n_intervals":
                return int(entry.get("value") or 0)
        return None


@dataclass
class PageTraffic:
    """What one viewer of `path` sends: GETs and callback waves on load, waves per tick."""

    path: str
    gets: list[str] = field(default_factory=list)
    load: list[list[dict[str, Any]]] = field(default_factory=list)
    tick: list[list[dict[str, Any]]] = field(default_factory=list)

    def tick_requests(self) -> int:
        return sum(len(w) for w in self.tick)

    def describe(self) -> str:
        names = ", ".join(callback_label(b) for w in self.tick for b in w)
        return (
            f"{self.path}: load {len(self.gets)} GET + {sum(len(w) for w in self.load)} callbacks"
            f" in {len(self.load)} waves; each tick {self.tick_requests()} callbacks in"
            f" {len(self.tick)} waves ({names})"
        )


def _flat(items: list[Any]) -> list[dict[str, Any]]:
    return [e for item in items for e in (item if isinstance(item, list) else [item])]


def callback_label(body: dict[str, Any]) -> str:
    """A short name for a callback: its first output's component id and property."""
    outputs = body.get("outputs")
    first = _flat(outputs if isinstance(outputs, list) else [outputs])[0]
    cid = first.get("id")
    name = cid if isinstance(cid, str) else json.dumps(cid, sort_keys=True)
    return f"{name}.{first.get('property')}"


def waves(seen: list[Seen]) -> list[list[dict[str, Any]]]:
    """Group callback requests (in send order) so a wave starts when one was sent after an
    answer of the current wave had come back."""
    out: list[list[Seen]] = []
    for s in sorted(seen, key=lambda s: s.start_ms):
        current = out[-1] if out else None
        if current is None or any(c.end_ms is not None and c.end_ms <= s.start_ms for c in current):
            out.append([s])
        else:
            current.append(s)
    return [[s.body for s in wave if s.body is not None] for wave in out]


def split_phases(path: str, seen: list[Seen]) -> PageTraffic:
    """Load requests (before tick 1), and the requests of tick 1 (before tick 2)."""
    ticks = [(s.refresh_tick(), s) for s in seen]
    first = min((s.start_ms for n, s in ticks if n == 1), default=None)
    second = min((s.start_ms for n, s in ticks if n is not None and n >= 2), default=None)
    if first is None or second is None:
        raise RuntimeError(f"{path}: the refresh timer did not fire twice while recording")
    gets = [s.path for s in seen if s.method == "GET" and s.start_ms < first]
    posts = [s for s in seen if s.method == "POST" and s.path == CALLBACK_PATH]
    return PageTraffic(
        path=path,
        gets=gets,
        load=waves([s for s in posts if s.start_ms < first]),
        tick=waves([s for s in posts if first <= s.start_ms < second]),
    )


def _recorder(page: Page, origin: str, seen: list[Seen]) -> None:
    def on_request(request: Request) -> None:
        parts = urlsplit(request.url)
        if f"{parts.scheme}://{parts.netloc}" != origin or parts.path.startswith(STATIC_PREFIXES):
            return
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = None
        if request.method == "POST" and request.post_data:
            body = json.loads(request.post_data)
            # The query is the page's signed `endId`; each viewer sends its own.
            path = parts.path
        start = request.timing.get("startTime", -1)
        seen.append(Seen(request.method, path, body, start if start > 0 else time.time() * 1000))
        by_request[request] = seen[-1]

    def on_finished(request: Request) -> None:
        entry = by_request.get(request)
        if entry is not None:
            timing = request.timing
            entry.start_ms = timing["startTime"]
            entry.end_ms = timing["startTime"] + max(0.0, timing["responseEnd"])

    by_request: dict[Request, Seen] = {}
    page.on("request", on_request)
    page.on("requestfinished", on_finished)


def capture(base_url: str, paths: list[str], timeout_s: float = 90) -> list[PageTraffic]:
    """Open every path in its own tab at once and record load and one tick of each.

    Chromium is driven from a thread of its own: Playwright's sync API refuses to start in
    a thread where another sync Playwright is still running (a test session's browser)."""
    return in_own_thread(_capture, base_url, paths, timeout_s)


def _capture(base_url: str, paths: list[str], timeout_s: float) -> list[PageTraffic]:
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
    origin = base_url.rstrip("/")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(base_url=origin, viewport={"width": 1440, "height": 900})
            tabs: list[tuple[str, Page, list[Seen]]] = []
            for path in paths:
                page = context.new_page()
                seen: list[Seen] = []
                _recorder(page, origin, seen)
                page.goto(path, wait_until="commit")
                tabs.append((path, page, seen))
            deadline = time.monotonic() + timeout_s
            while not all(_tick_two_answered(seen) for _, _, seen in tabs):
                if time.monotonic() > deadline:
                    break
                tabs[0][1].wait_for_timeout(250)
            return [split_phases(path, seen) for path, _, seen in tabs]
        finally:
            browser.close()


def _tick_two_answered(seen: list[Seen]) -> bool:
    return any((s.refresh_tick() or 0) >= 2 and s.end_ms is not None for s in seen)
