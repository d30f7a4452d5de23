"""One soak: the demo as `make demo` runs it, under viewers, uploads and exports, RSS sampled.

Shared by `bench/soak.py` (10 minutes) and tests/reliability/test_soak.py (bounded).
`python -m dashapp demo` starts the sandbox, the collectors and gunicorn, each its own
process; their resident memory is read from /proc every few seconds. Growth is judged
from a least-squares line through the samples after the warm-up (the first minutes
fill caches, pools and the collectors' backfill), so one garbage-collection step or
a page allocated late does not read as a leak, and a steady climb does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.apart import in_own_thread
from bench.browser_capture import PageTraffic, capture
from bench.demo_traffic import ActivityLog, demo_activity
from bench.procstat import children, rss_mb, tree
from bench.viewers import Book, run_viewers
from bench.webserver import ROOT, free_port

JOB = "sales-orders-ingest"
PATHS = ["/", f"/jobs/{JOB}", "/wall"]


@dataclass
class SoakPlan:
    duration_s: float
    warmup_s: float
    viewers: int = 10
    sample_every_s: float = 5.0
    interval_s: int = 5
    upload_every_s: float = 20.0
    export_every_s: float = 10.0
    history_days: float | None = None  # the sandbox's default (as `make demo`) when None
    database_url: str | None = None  # SQLite in the run's folder when None


@dataclass
class Series:
    """RSS samples of one part: (seconds since the window opened, MB)."""

    name: str
    points: list[tuple[float, float]] = field(default_factory=list)

    def slope_mb_per_s(self) -> float:
        n = len(self.points)
        if n < 2:
            return 0.0
        mt = sum(t for t, _ in self.points) / n
        mv = sum(v for _, v in self.points) / n
        var = sum((t - mt) ** 2 for t, _ in self.points)
        cov = sum((t - mt) * (v - mv) for t, v in self.points)
        return cov / var if var else 0.0

    def start_mb(self) -> float:
        return self.points[0][1] if self.points else 0.0

    def end_mb(self) -> float:
        return self.points[-1][1] if self.points else 0.0

    def fitted_growth_mb(self) -> float:
        """Growth over the window along the fitted line."""
        if len(self.points) < 2:
            return 0.0
        return self.slope_mb_per_s() * (self.points[-1][0] - self.points[0][0])

    def last_half(self) -> Series:
        """The samples of the window's second half: a leak climbs there as steeply as in
        the first; caches and arenas filling up slow down."""
        if not self.points:
            return self
        middle = self.points[-1][0] / 2
        return Series(self.name, [p for p in self.points if p[0] >= middle])

    def line(self) -> str:
        growth, fitted = self.end_mb() - self.start_mb(), self.fitted_growth_mb()
        return (
            f"{self.name:<28} start {self.start_mb():7.1f} MB  end {self.end_mb():7.1f} MB  "
            f"growth {growth:+6.1f} MB  fitted {fitted:+6.1f} MB"
            f" = {self.slope_mb_per_s() * 3600:+7.1f} MB/hour"
            f" (second half {self.last_half().slope_mb_per_s() * 3600:+7.1f} MB/hour;"
            f" {len(self.points)} samples)"
        )


@dataclass
class SoakResult:
    plan: SoakPlan
    pages: list[PageTraffic]
    web: Series
    workers: list[Series]
    collector: Series
    sandbox: Series
    book: Book
    activity: ActivityLog
    problems: list[str]
    log_tracebacks: int

    def errors(self) -> int:
        return self.book.errors + len(self.activity.errors) + len(self.problems)


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def parts(demo_pid: int) -> dict[str, int]:
    """pid of the demo's sandbox, collectors and web arbiter, by their command lines."""
    found: dict[str, int] = {}
    for pid in children(demo_pid):
        argv = _cmdline(pid)
        for name, marker in (("sandbox", ["-m", "sandbox"]), ("collectors", ["-m", "collectors"])):
            if argv[1:3] == marker:
                found[name] = pid
        if argv[1:4] == ["-m", "dashapp", "web"]:
            found["web"] = pid
    return found


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start_demo(plan: SoakPlan, log_dir: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`python -m dashapp demo` on free ports; returns it once the web answers."""
    web_port, sandbox_port = free_port(), free_port()
    env = {
        **os.environ,
        "SMD_PORT": str(web_port),
        "SMD_SANDBOX_PORT": str(sandbox_port),
        "DATABASE_URL": plan.database_url or f"sqlite:///{log_dir / 'demo.sqlite3'}",
        "SMD_REFRESH_INTERVAL_S": str(plan.interval_s),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    if plan.history_days is not None:
        env["SMD_SANDBOX_HISTORY_DAYS"] = str(plan.history_days)
    log = log_dir / "demo.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashapp", "demo"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{web_port}"
    deadline = time.monotonic() + 600
    while not ("Ctrl-C stops everything" in log.read_text(errors="replace") and _ready(url)):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_demo(proc)
            raise RuntimeError(f"the demo did not come up:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return proc, url, log


def stop_demo(proc: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a person stops it; its whole session is killed if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def _sample(
    demo: subprocess.Popen[bytes], plan: SoakPlan, opened_at: float, result: dict[str, Series]
) -> list[str]:
    """RSS of each part every few seconds until the window closes; problems seen."""
    problems: list[str] = []
    booted: set[int] | None = None
    end = opened_at + plan.duration_s
    while time.monotonic() <= end:
        now = time.monotonic()
        pids = parts(demo.pid)
        if demo.poll() is not None or len(pids) < 3:
            problems.append(f"a demo part is gone: {sorted(pids)} (demo code {demo.poll()})")
            break
        workers = sorted(children(pids["web"]))
        booted = set(workers) if booted is None else booted
        if set(workers) != booted:
            problems.append(f"web workers changed: {sorted(booted)} -> {workers}")
            booted = set(workers)
        if now >= opened_at:
            t = now - opened_at
            result["web"].points.append((t, sum(rss_mb(p) for p in tree(pids["web"]))))
            for i, pid in enumerate(workers):
                name = f"web worker {i + 1}"
                result.setdefault(name, Series(name)).points.append((t, rss_mb(pid)))
            # Both processes: the bulk collectors and their live pollers' child.
            collectors = tree(pids["collectors"])
            result["collector"].points.append((t, sum(rss_mb(p) for p in collectors)))
            result["sandbox"].points.append((t, rss_mb(pids["sandbox"])))
        await asyncio.sleep(plan.sample_every_s)
    return problems


def run_soak(plan: SoakPlan, log_dir: Path) -> SoakResult:
    """Start the demo, record its pages, drive traffic through warm-up and window."""
    demo, url, log = start_demo(plan, log_dir)
    try:
        pages = capture(url, PATHS)
        series = {n: Series(n) for n in ("web", "collector", "sandbox")}
        total = plan.warmup_s + plan.duration_s
        ramp = min(10.0, plan.warmup_s / 2)

        async def drive() -> tuple[Book, ActivityLog, list[str]]:
            start = time.monotonic()
            opened = start + plan.warmup_s
            viewers = run_viewers(
                url,
                pages,
                plan.viewers,
                interval_s=plan.interval_s,
                ramp_s=ramp,
                duration_s=total - ramp - plan.interval_s,
            )
            activity = demo_activity(
                url,
                start + total,
                upload_every_s=plan.upload_every_s,
                export_every_s=plan.export_every_s,
            )
            return await asyncio.gather(viewers, activity, _sample(demo, plan, opened, series))

        book, activity, problems = in_own_thread(asyncio.run, drive())
    finally:
        stop_demo(demo)
    workers = [s for n, s in sorted(series.items()) if n.startswith("web worker")]
    text = log.read_text(errors="replace")
    if demo.returncode not in (0, None):
        problems.append(f"the demo exited with {demo.returncode}")
    return SoakResult(
        plan,
        pages,
        series["web"],
        workers,
        series["collector"],
        series["sandbox"],
        book,
        activity,
        problems,
        text.count("Traceback"),
    )


def report(result: SoakResult) -> list[str]:
    plan, book, act = result.plan, result.book, result.activity
    return [
        f"demo: python -m dashapp demo ({'SQLite' if not plan.database_url else plan.database_url})"
        f"; warm-up {plan.warmup_s:.0f} s, then {plan.duration_s:.0f} s measured,"
        f" RSS every {plan.sample_every_s:.0f} s",
        f"traffic: {plan.viewers} viewers with {', '.join(PATHS)} open (refresh every"
        f" {plan.interval_s} s), an upload every {plan.upload_every_s:.0f} s, an export every"
        f" {plan.export_every_s:.0f} s",
        result.web.line().replace(result.web.name, "web (arbiter + workers)", 1),
        *[w.line() for w in result.workers],
        result.collector.line(),
        result.sandbox.line() + "  [the AWS stand-in: keeps uploads in memory]",
        f"requests: {book.requests} page requests, {book.errors} errors,"
        f" {book.retried} retried once on a fresh connection"
        + (f" (first: {book.error_samples[:3]})" if book.error_samples else ""),
        f"activity: {act.uploads} uploads, {act.exports} exports"
        f" ({act.export_bytes / 1e6:.1f} MB), {len(act.errors)} errors"
        + (f" (first: {act.errors[:3]})" if act.errors else ""),
        f"process problems: {result.problems or 'none'}; tracebacks in the demo log:"
        f" {result.log_tracebacks}",
        f"uptime: {Path('/proc/loadavg').read_text().strip()}",
    ]
