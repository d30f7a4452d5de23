"""Virtual viewers: many browsers' worth of page traffic from one asyncio process.

Each viewer is one browser (one aiohttp session, at most 6 connections, as Chromium
per host) with the recorded pages open in tabs. A tab loads its page once (the GETs,
then the mount callbacks wave by wave), then on every tick of the refresh timer
sends that tick's callbacks wave by wave, n_intervals counting up as in a browser.

Why asyncio and aiohttp rather than locust: the client shares the two cores with the
server it measures; one event loop with aiohttp's C parser spends far less CPU per
request than a greenlet per user, and what it spends is printed (`client_cpu_s`).

Ticks are paced like `dcc.Interval` (a fixed period from mount); a tick whose
predecessor is still unanswered when it falls due is sent as soon as that one is
answered, and ticks more than one period behind are dropped. So an overloaded server
shows as achieved < offered tick rate, not as an ever-growing queue in the client.
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.browser_capture import CALLBACK_PATH, PageTraffic, callback_label
from bench.sqltiming import percentile

CONNECTIONS_PER_BROWSER = 6
#: Below gunicorn's 2 s keep-alive: a connection the server may be closing is never reused.
KEEPALIVE_S = 1.0
REQUEST_TIMEOUT_S = 60.0
#: Failures of a connection before any answer came back (a browser retries these once).
CLOSED_BEFORE_ANSWER = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)
END_ID = re.compile(r'"end_id":\s*"([^"]+)"')


@dataclass
class Book:
    """Latencies by request label, errors, and tick accounting within the measured window."""

    window: tuple[float, float]
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    requests: int = 0
    errors: int = 0
    retried: int = 0
    error_samples: list[str] = field(default_factory=list)
    #: Ticks of the refresh timer inside the window, by page: due, sent more than 1 s
    #: late, and answered without error.
    ticks_due: Counter[str] = field(default_factory=Counter)
    ticks_late: Counter[str] = field(default_factory=Counter)
    ticks_answered: Counter[str] = field(default_factory=Counter)
    #: Whole refreshes (every wave of a tick answered), by page: what a person waits for.
    refresh_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def in_window(self, t: float) -> bool:
        return self.window[0] <= t < self.window[1]

    def record(self, label: str, started: float, ms: float, error: str | None) -> None:
        """Every request counts for errors; tick latencies only inside the window (page
        loads, all made during the ramp, are kept whatever the time)."""
        self.requests += 1
        if error is not None:
            self.errors += 1
            if len(self.error_samples) < 10:
                self.error_samples.append(f"{label}: {error}")
        if label.startswith("load ") or self.in_window(started):
            self.latencies[label].append(ms)

    def all_ms(self, prefix: str = "") -> list[float]:
        return [v for k, vs in self.latencies.items() if k.startswith(prefix) for v in vs]


def quantiles(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return (float("nan"),) * 3
    return percentile(values, 50), percentile(values, 95), percentile(values, 99)


def tick_body(body: dict[str, Any], n: int) -> dict[str, Any]:
    """The recorded body with the refresh timer's n_intervals at `n`."""
    out = copy.deepcopy(body)
    for item in out.get("inputs", []):
        for entry in item if isinstance(item, list) else [item]:
            if entry.get("id") == "smd-refresh" and entry.get("property") == "n_intervals":
                entry["value"] = n
    return out


#: What every panel says when its query failed (layouts.components.database_unreachable):
#: under load that is a pool timeout or a refused connection, and the viewer sees it.
DB_FAILURE = b"Database unreachable"


def dash_error(status: int, body: bytes) -> str | None:
    """Why an answer is an error: non-2xx, a 200 that is not a callback response, or a
    panel saying the database could not be read."""
    if not 200 <= status < 300:
        return f"HTTP {status}: {body[:200]!r}"
    if status == 200 and b'"response"' not in body[:200]:
        return f"not a callback response: {body[:200]!r}"
    at = body.find(DB_FAILURE)
    if at >= 0:
        return body[at : at + 200].decode(errors="replace")
    return None


class Tab:
    """One open page of one viewer."""

    def __init__(self, session: aiohttp.ClientSession, base: str, traffic: PageTraffic) -> None:
        self.session = session
        self.base = base
        self.traffic = traffic
        self.end_id: str | None = None

    async def _send(self, book: Book, label: str, method: str, path: str, body: Any) -> bool:
        started = time.monotonic()
        error: str | None = None
        for attempt in (1, 2):
            try:
                error = await self._exchange(method, path, body)
                break
            except CLOSED_BEFORE_ANSWER as e:
                # As Chromium does: a connection the server closed before answering is
                # tried once more on a fresh one; only a second failure is an error.
                error = f"{type(e).__name__}: {e}"
                if attempt == 1:
                    book.retried += 1
            except (TimeoutError, aiohttp.ClientError) as e:
                error = f"{type(e).__name__}: {e}"
                break
        book.record(label, started, (time.monotonic() - started) * 1000, error)
        return error is None

    async def _exchange(self, method: str, path: str, body: Any) -> str | None:
        """One request; why its answer is an error, or None."""
        async with self.session.request(method, self.base + path, json=body) as r:
            data = await r.read()
            if method == "POST":
                return dash_error(r.status, data)
            if path == self.traffic.path:
                found = END_ID.search(data.decode(errors="replace"))
                self.end_id = found.group(1) if found else None
            return None if r.status == 200 else f"HTTP {r.status}"

    def _callback_path(self) -> str:
        return CALLBACK_PATH + (f"?endId={self.end_id}" if self.end_id else "")

    async def _waves(self, book: Book, waves: list[list[dict[str, Any]]], phase: str) -> bool:
        ok = True
        for wave in waves:
            results = await asyncio.gather(
                *(
                    self._send(
                        book,
                        f"{phase} {self.traffic.path} {callback_label(b)}",
                        "POST",
                        self._callback_path(),
                        b,
                    )
                    for b in wave
                )
            )
            ok = ok and all(results)
        return ok

    async def run(self, book: Book, interval_s: float, stop_at: float) -> None:
        await self._send(book, f"load GET {self.traffic.path}", "GET", self.traffic.path, None)
        rest = [g for g in self.traffic.gets if g != self.traffic.path]
        await asyncio.gather(*(self._send(book, f"load GET {g}", "GET", g, None) for g in rest))
        await self._waves(book, self.traffic.load, "load")
        due = time.monotonic() + interval_s
        n = 0
        while due < stop_at:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            n += 1
            sent = time.monotonic()
            counted = book.in_window(due)
            path = self.traffic.path
            if counted:
                book.ticks_due[path] += 1
                book.ticks_late[path] += sent - due > 1.0
            waves = [[tick_body(b, n) for b in wave] for wave in self.traffic.tick]
            ok = await self._waves(book, waves, "tick")
            if counted and ok:
                book.ticks_answered[path] += 1
                book.refresh_ms[path].append((time.monotonic() - sent) * 1000)
            due += interval_s
            while time.monotonic() - due > interval_s:  # a browser's timer does not queue
                book.ticks_due[path] += book.in_window(due)  # missed ticks: this one is lost
                due += interval_s


async def run_viewers(
    base: str,
    pages: list[PageTraffic],
    viewers: int,
    *,
    interval_s: float,
    ramp_s: float,
    duration_s: float,
) -> Book:
    """Start `viewers` browsers spread over `ramp_s`, measure `duration_s` after the ramp
    and one more interval (every tab is ticking by then), then stop them."""
    now = time.monotonic()
    window = (now + ramp_s + interval_s, now + ramp_s + interval_s + duration_s)
    book = Book(window)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    origin = {"Origin": base}

    async def viewer(i: int) -> None:
        await asyncio.sleep(ramp_s * i / max(1, viewers))
        connector = aiohttp.TCPConnector(
            limit_per_host=CONNECTIONS_PER_BROWSER, keepalive_timeout=KEEPALIVE_S
        )
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, headers=origin
        ) as session:
            tabs = [Tab(session, base, p) for p in pages]
            await asyncio.gather(*(t.run(book, interval_s, window[1]) for t in tabs))

    await asyncio.gather(*(viewer(i) for i in range(viewers)))
    return book
