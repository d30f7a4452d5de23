"""Benchmark: GetMetricData through the sandbox server vs. moto's own implementation.

Why: the collector sends GetMetricData with 500 queries a call; moto's own
CloudWatch scans every stored sample per query and cannot answer percentiles,
so the sandbox replaces it (``sandbox/fidelity/cloudwatch/``).  This
script prints, from one run:

1. moto unpatched vs. the fidelity layer on a small workload moto can still
   answer (same HTTP server setup, same puts, same queries, same answers), as a
   ratio;
2. the collector-scale call -- 500 queries over 24 h of 1-minute data, ~20 raw
   samples a datapoint, mixed p95/p99/Average/Sum/Maximum -- page by page:
   server handler time, HTTP round trip, and the whole boto3 call, with
   botocore's default timestamp parser and with a cheap one;
3. memory of the metric store for the dashboard's scale (12 functions x 14
   days x 1-minute x 5 Lambda metrics).

Run: ``python bench/sandbox_metrics.py`` (``--quick`` for a smaller run).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import numpy as np
import requests
from botocore.config import Config
from botocore.utils import parse_timestamp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.fidelity.cloudwatch.store import MetricStore, metric_store
from sandbox.server import SandboxServer

for _key, _value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
    os.environ.setdefault(_key, _value)
os.environ.pop("AWS_ENDPOINT_URL", None)
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request

REGION = "us-east-1"
STATS = ("p95", "p99", "Average", "Sum", "Maximum")
BASIC = ("Average", "Sum", "Maximum", "Minimum")  # what unpatched moto can answer


class _TimedApp:
    """WSGI wrapper recording how long the server spends on each request."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.seconds: list[float] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start = time.perf_counter()
        result = self.app(environ, start_response)
        body = list(result)
        close = getattr(result, "close", None)
        if close is not None:
            close()
        self.seconds.append(time.perf_counter() - start)
        return body


class _TimedServer(SandboxServer):
    def build_app(self) -> Any:
        self.timed = _TimedApp(super().build_app())
        return self.timed


def _client(url: str, *, fast_timestamps: bool = False) -> Any:
    session = botocore.session.Session()
    if fast_timestamps:

        def parse(value: Any) -> datetime:
            if isinstance(value, (int, float)):
                return datetime.fromtimestamp(value, UTC)
            return parse_timestamp(value)

        session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse)
    client = boto3.Session(botocore_session=session).client(
        "cloudwatch",
        region_name=REGION,
        endpoint_url=url,
        config=Config(retries={"total_max_attempts": 1}, read_timeout=300),
    )
    marks: dict[str, float] = {}
    client.bench_marks = marks  # request sent / response read, for the HTTP time
    client.meta.events.register(
        "before-send.cloudwatch.GetMetricData",
        lambda **_: marks.__setitem__("sent", time.perf_counter()),
    )
    client.meta.events.register(
        "before-parse.cloudwatch.GetMetricData",
        lambda **_: marks.__setitem__("received", time.perf_counter()),
    )
    return client


def _queries(n: int, stats: tuple[str, ...], namespace: str = "AWS/Lambda") -> list[dict[str, Any]]:
    return [
        {
            "Id": f"q{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": namespace,
                    "MetricName": "Duration",
                    "Dimensions": [{"Name": "FunctionName", "Value": f"fn-{i:03d}"}],
                },
                "Period": 60,
                "Stat": stats[i % len(stats)],
            },
        }
        for i in range(n)
    ]


def _all_pages(client: Any, queries: list[dict[str, Any]], start: int, end: int) -> dict[str, Any]:
    """Every page of one GetMetricData call, with per-page timings."""
    marks = client.bench_marks
    pages: list[dict[str, float]] = []
    results: dict[str, list[float]] = {}
    token = None
    while True:
        kwargs = {"NextToken": token} if token else {}
        t0 = time.perf_counter()
        resp = client.get_metric_data(
            MetricDataQueries=queries,
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
            **kwargs,
        )
        total = time.perf_counter() - t0
        points = sum(len(r["Values"]) for r in resp["MetricDataResults"])
        for r in resp["MetricDataResults"]:
            results.setdefault(r["Id"], []).extend(r["Values"])
        pages.append({"total": total, "http": marks["received"] - marks["sent"], "points": points})
        token = resp.get("NextToken")
        if not token:
            return {"pages": pages, "results": results}


def _put_small(url: str, n_series: int, minutes: int, samples: int, end: int) -> None:
    """The small workload, through PutMetricData (the only way into unpatched moto)."""
    client = boto3.client("cloudwatch", region_name=REGION, endpoint_url=url)
    rng = np.random.default_rng(11)
    data = []
    for i in range(n_series):
        for m in range(minutes):
            values = rng.integers(1, 1000, size=samples).astype(float).tolist()
            data.append(
                {
                    "MetricName": "Duration",
                    "Dimensions": [{"Name": "FunctionName", "Value": f"fn-{i:03d}"}],
                    "Timestamp": datetime.fromtimestamp(end - 60 * (minutes - m), UTC),
                    "Values": values,
                    "Unit": "Milliseconds",
                }
            )
    for i in range(0, len(data), 500):
        client.put_metric_data(Namespace="AWS/Lambda", MetricData=data[i : i + 500])


def small_comparison(n_series: int, minutes: int, samples: int) -> None:
    """Unpatched moto vs. the fidelity layer: same small workload, same process, same HTTP."""
    from moto.server import ThreadedMotoServer

    end = int(time.time()) // 60 * 60
    start = end - 60 * (minutes + 1)
    queries = _queries(n_series, BASIC)
    print(
        f"\n[1] small workload: {n_series} queries x {minutes} min x {samples} samples "
        f"({n_series * minutes * samples:,} stored samples), stats {'/'.join(BASIC)}"
    )

    moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto_server.start()
    host, port = moto_server.get_host_and_port()
    url = f"http://{host}:{port}"
    requests.post(f"{url}/moto-api/reset", timeout=30)
    _put_small(url, n_series, minutes, samples, end)
    client = _client(url)
    t0 = time.perf_counter()
    moto_pages = _all_pages(client, queries, start, end)
    moto_s = time.perf_counter() - t0
    requests.post(f"{url}/moto-api/reset", timeout=30)
    moto_server.stop()

    with SandboxServer(port=0) as sandbox:  # applies the fidelity layer from here on
        requests.post(f"{sandbox.url}/moto-api/reset", timeout=30)
        _put_small(sandbox.url, n_series, minutes, samples, end)
        best = float("inf")
        client = _client(sandbox.url)
        for _ in range(3):
            t0 = time.perf_counter()
            patched_pages = _all_pages(client, queries, start, end)
            best = min(best, time.perf_counter() - t0)
        requests.post(f"{sandbox.url}/moto-api/reset", timeout=30)

    same = all(
        np.allclose(moto_pages["results"][q], patched_pages["results"][q], rtol=1e-12)
        for q in moto_pages["results"]
    )
    print(f"    moto unpatched : {moto_s:8.3f} s")
    print(f"    fidelity layer : {best:8.3f} s  (best of 3)")
    print(f"    ratio          : {moto_s / best:8.1f}x faster   (identical answers: {same})")


def full_scale(n_series: int, hours: int, samples: int) -> None:
    """The collector's call: 500 queries over 24 h of 1-minute data, all pages."""
    end = int(time.time()) // 60 * 60
    start = end - hours * 3600
    ts = np.arange(start, end, 60)
    print(
        f"\n[2] collector scale: {n_series} queries x {hours} h x 1-min x {samples} samples "
        f"({n_series * ts.size:,} datapoints, {n_series * ts.size * samples:,} samples), "
        f"stats {'/'.join(STATS)}"
    )
    server = _TimedServer(port=0)
    with server:
        requests.post(f"{server.url}/moto-api/reset", timeout=30)
        store = metric_store()
        rng = np.random.default_rng(5)
        t0 = time.perf_counter()
        for i in range(n_series):
            s = rng.gamma(2.0, 60.0, size=(ts.size, samples))
            store.put_series(
                "AWS/Lambda",
                "Duration",
                {"FunctionName": f"fn-{i:03d}"},
                ts,
                sums=s.sum(axis=1),
                counts=np.full(ts.size, float(samples)),
                mins=s.min(axis=1),
                maxs=s.max(axis=1),
                samples=s,
                unit="Milliseconds",
            )
        print(
            f"    seeding with put_series: {time.perf_counter() - t0:.2f} s, "
            f"store {store.memory_bytes() / 2**20:.0f} MiB"
        )
        queries = _queries(n_series, STATS)
        for label, fast in (("botocore default timestamp parser", False), ("cheap parser", True)):
            server.timed.seconds.clear()
            run = _all_pages(_client(server.url, fast_timestamps=fast), queries, start, end)
            handler = list(server.timed.seconds)
            print(f"    boto3 client, {label}:")
            print("      page  datapoints  server s  http s  boto3 call s")
            for n, (page, srv) in enumerate(zip(run["pages"], handler, strict=False), 1):
                print(
                    f"      {n:4d}  {page['points']:10,d}  {srv:8.3f}  {page['http']:6.3f}"
                    f"  {page['total']:12.3f}"
                )
            totals = [p["total"] for p in run["pages"]]
            print(
                f"      {len(totals)} pages, {sum(p['points'] for p in run['pages']):,} points: "
                f"server max {max(handler):.3f} s/page, http max "
                f"{max(p['http'] for p in run['pages']):.3f} s/page, "
                f"boto3 call max {max(totals):.3f} s/page, all pages {sum(totals):.2f} s"
            )
        requests.post(f"{server.url}/moto-api/reset", timeout=30)


def memory(functions: int, days: int, samples: int) -> None:
    """Store bytes for the dashboard's Lambda metrics at scale."""
    ts = 1_790_000_000 // 60 * 60 + 60 * np.arange(days * 1440)
    n = ts.size
    ones = np.ones(n)
    rng = np.random.default_rng(1)
    print(f"\n[3] memory: {functions} functions x {days} days x 1-min x 5 Lambda metrics")
    for label, sampled in (
        ("raw samples on Duration only", {"Duration"}),
        ("raw samples on all 5 metrics", None),
    ):
        store = MetricStore()
        for f in range(functions):
            for metric in (
                "Invocations",
                "Errors",
                "Throttles",
                "ConcurrentExecutions",
                "Duration",
            ):
                raw = None
                if sampled is None or metric in sampled:
                    raw = rng.gamma(2.0, 40.0, size=(n, samples))
                store.put_series(
                    "AWS/Lambda",
                    metric,
                    {"FunctionName": f"fn{f}"},
                    ts,
                    sums=ones,
                    counts=ones,
                    mins=ones,
                    maxs=ones,
                    samples=raw,
                )
        print(
            f"    {label:30s}: {store.memory_bytes() / 2**20:6.0f} MiB "
            f"({functions * 5 * n:,} datapoints, {samples} samples where raw)"
        )
        del store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        small_comparison(n_series=10, minutes=30, samples=5)
        full_scale(n_series=100, hours=6, samples=20)
        memory(functions=2, days=2, samples=20)
    else:
        small_comparison(n_series=25, minutes=60, samples=10)
        full_scale(n_series=500, hours=24, samples=20)
        memory(functions=12, days=14, samples=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
