"""A million-row Athena result is paged at once and exported in flat memory.

Prints, all measured in this one run against the sandbox (`python -m sandbox`, whose
Athena runs the SQL in DuckDB) and the web app under gunicorn (`python -m dashapp web`),
each its own process:
1. the time from the moment the collector's follow cycle (`follow_queries`) records
   SUCCEEDED to the grid's first block (`read_block(start_row=0)`: GetQueryResults with
   the NextTokens kept in the database). It must stay < 1 s. Also a block deep in the
   result (row 10,000) before its token is known (a walk of pages) and once it is. The
   CPU the first block took (here and in the sandbox) is printed too: on a loaded machine
   the wall time is mostly waiting for a core, and a first large result tends to set off
   a full garbage collection in both processes (about 0.1 s each);
2. the web server's peak RSS growth (master + workers, sampled every 20 ms) while the
   whole result streams through `/export/athena/<id>.csv`, which re-parses every cell for
   spreadsheet-injection safety. It must stay < 50 MB;
3. that export's throughput against a plain boto3 GetObject of the same result CSV from
   the same endpoint, as a ratio of the times to deliver the whole result (the export is
   smaller: Athena quotes every value, the export only where RFC 4180 needs it): what
   re-parsing every cell costs over copying bytes. The sandbox serves GetObject from
   memory over loopback, far faster than S3 does, so the ratio is a floor.

Usage: .venv/bin/python bench/athena.py [--rows 1000000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The sandbox takes any credentials; never pick up a real profile by accident.
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")
os.environ.pop("AWS_PROFILE", None)

import boto3  # noqa: E402
import requests  # noqa: E402

from bench.upload import RssSampler, rss_bytes, start, timed, tree_pids, wait_http  # noqa: E402
from collectors.athena import follow_queries  # noqa: E402
from collectors.context import CollectorContext  # noqa: E402
from dashapp.actions.athena import run_query  # noqa: E402
from dashapp.actions.athena_results import read_block  # noqa: E402
from dashapp.aws.clients import AwsClients  # noqa: E402
from dashapp.aws.s3_objects import parse_s3_uri  # noqa: E402
from dashapp.clock import SystemClock  # noqa: E402
from dashapp.config import Settings  # noqa: E402
from dashapp.db import make_engine, make_session_factory, upgrade  # noqa: E402
from dashapp.identity import Identity, Role  # noqa: E402
from dashapp.models import AthenaQuery  # noqa: E402
from sandbox.datasets import datasets_json  # noqa: E402
from tests.sandbox_process import free_port  # noqa: E402

MB = 1_000_000
FIRST_PAGE_LIMIT_S = 1.0
RSS_LIMIT_MB = 50.0
DEEP_ROW = 10_000
CHUNK = 1 << 20
BENCH_USER = Identity(user="bench", role=Role.operator)
SQL = (
    "SELECT x, x * 2 AS y, 'row ' || CAST(x AS varchar) AS label "
    "FROM UNNEST(sequence(1, {rows})) AS t(x)"
)


@dataclass
class Figures:
    """What one run measured (seconds, bytes)."""

    run_s: float
    first_s: float = 0.0
    first_cpu_s: float = 0.0  # this process (read_block) + the sandbox (GetQueryResults)
    deep_cold_s: float = 0.0
    deep_warm_s: float = 0.0
    rss_before: int = 0
    rss_peak: int = 0
    processes: int = 0
    export_s: float = 0.0
    export_bytes: int = 0
    export_cpu_s: float = 0.0
    lines: int = 0
    get_s: float = 0.0
    object_bytes: int = 0


def wait_seeded(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 180) -> None:
    """Until the sandbox says `ready`: its health answers 200 before the buckets exist."""
    wait_http(f"{url}/_sandbox/health", proc, log, timeout_s)
    deadline = time.monotonic() + timeout_s
    while not requests.get(f"{url}/_sandbox/health", timeout=5).json().get("ready"):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(
                f"the sandbox did not seed in {timeout_s} s:\n{log.read_text()[-3000:]}"
            )
        time.sleep(0.3)


def run_until_succeeded(ctx: CollectorContext, sql: str, timeout_s: float = 600) -> AthenaQuery:
    """Start the query as the page does and follow it as the collector does (every 50 ms,
    so SUCCEEDED is seen as soon as Athena reports it); the row as the grid then reads it."""
    s = ctx.settings
    result = run_query(
        ctx.sessions,
        ctx.aws.client("athena"),
        BENCH_USER,
        sql=sql,
        database=s.athena_database,
        workgroup=s.athena_workgroup,
        output_location=f"s3://{s.athena_results_bucket}/results/",
        now=ctx.clock.now(),
        request_token=uuid.uuid4().hex,
    )
    if not result.ok or result.execution_id is None:
        raise SystemExit(f"run_query: {result.message}")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        follow_queries(ctx)
        with ctx.sessions() as session:
            q = session.get(AthenaQuery, result.execution_id)
            assert q is not None
            if q.state == "SUCCEEDED":
                return q
            if q.state in ("FAILED", "CANCELLED"):
                raise SystemExit(f"query {q.execution_id} {q.state}: {q.state_reason}")
        time.sleep(0.05)
    raise SystemExit(f"query {result.execution_id} not done in {timeout_s} s")


def block_rows(ctx: CollectorContext, execution_id: str, start_row: int) -> tuple[float, Any]:
    return timed(
        lambda: read_block(ctx.sessions, ctx.aws.client("athena"), execution_id, start_row)
    )


def download(url: str) -> tuple[int, int, list[list[str]]]:
    """Stream a CSV export to nowhere: its bytes, lines and first three records."""
    size = lines = 0
    head = b""
    with requests.get(url, stream=True, timeout=600) as r:
        r.raise_for_status()
        for chunk in r.iter_content(CHUNK):
            size += len(chunk)
            lines += chunk.count(b"\n")
            if len(head) < 4096:
                head += chunk[:4096]
    return size, lines, list(csv.reader(io.StringIO(head.decode())))[:3]


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process tree has used: steadier than wall time on a
    shared machine."""
    ticks = 0
    for p in tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def get_object(s3: Any, uri: str) -> int:
    bucket, key = parse_s3_uri(uri)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    size = 0
    while chunk := body.read(CHUNK):
        size += len(chunk)
    return size


def measure(
    ctx: CollectorContext, s3: Any, pids: tuple[int, int], web_url: str, rows: int
) -> Figures:
    """Run the big query, read the grid's blocks, export it, GetObject it; check each."""
    sandbox_pid, web_pid = pids
    started = time.perf_counter()
    q = run_until_succeeded(ctx, SQL.format(rows=rows))
    f = Figures(run_s=time.perf_counter() - started)
    cpu_before = time.process_time() + cpu_s(sandbox_pid)
    f.first_s, first = block_rows(ctx, q.execution_id, 0)
    f.first_cpu_s = time.process_time() + cpu_s(sandbox_pid) - cpu_before
    f.deep_cold_s, deep = block_rows(ctx, q.execution_id, DEEP_ROW)
    f.deep_warm_s, deep_again = block_rows(ctx, q.execution_id, DEEP_ROW)
    assert first.rows[0] == {"c0": "1", "c1": "2", "c2": "row 1"}, first.rows[0]
    assert len(first.rows) == 1000 and deep.rows == deep_again.rows, first.note
    assert deep.rows[0]["c0"] == str(DEEP_ROW + 1), deep.rows[0]

    f.rss_before, f.processes = rss_bytes(web_pid), len(tree_pids(web_pid))
    cpu_before = cpu_s(web_pid)
    with RssSampler(web_pid) as sampler:
        f.export_s, (f.export_bytes, f.lines, head) = timed(
            lambda: download(f"{web_url}/export/athena/{q.execution_id}.csv")
        )
    f.rss_peak, f.export_cpu_s = sampler.peak, cpu_s(web_pid) - cpu_before
    # A GetObject takes tens of milliseconds: the median of three is less at the mercy of
    # whatever else the machine is doing than one.
    gets = sorted(timed(lambda: get_object(s3, q.output_location or "")) for _ in range(3))
    f.get_s, f.object_bytes = gets[1]
    assert f.lines == rows + 1, f"the export has {f.lines:,} lines, not {rows + 1:,}"
    assert head == [["x", "y", "label"], ["1", "2", "row 1"], ["2", "4", "row 2"]], head
    return f


def report(f: Figures, rows: int, db_url: str) -> int:
    """Print the figures; 1 when a limit is broken."""
    first_ok = f.first_s < FIRST_PAGE_LIMIT_S
    growth_mb = (f.rss_peak - f.rss_before) / MB
    rss_ok = growth_mb < RSS_LIMIT_MB
    load = f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    print(f"\n1. Grid blocks of a {rows:,}-row result ({db_url.split(':')[0]} database, {load})")
    print(f"   run → SUCCEEDED recorded     {f.run_s:7.2f} s  (sandbox DuckDB, CSV to S3)")
    print(
        f"   first block (rows 0–999)     {f.first_s * 1000:7.0f} ms "
        f"(limit {FIRST_PAGE_LIMIT_S * 1000:.0f} ms: {'OK' if first_ok else 'OVER THE LIMIT'})"
    )
    print(
        f"     CPU {f.first_cpu_s * 1000:.0f} ms (read_block here + GetQueryResults in the sandbox)"
    )
    print(f"   block at {DEEP_ROW:,}, no token   {f.deep_cold_s * 1000:7.0f} ms (walks pages)")
    print(f"   block at {DEEP_ROW:,}, its token  {f.deep_warm_s * 1000:7.0f} ms")
    print("\n2. Web server memory while the result went through /export/athena/<id>.csv")
    print(
        f"   {f.lines:,} lines, {f.export_bytes / MB:.1f} MB "
        f"(from a {f.object_bytes / MB:.1f} MB result object)"
    )
    print(f"   RSS before {f.rss_before / MB:8.1f} MB   peak {f.rss_peak / MB:8.1f} MB")
    print(f"   ({f.processes} processes: gunicorn master and worker, sampled every 20 ms)")
    verdict = "OK" if rss_ok else "OVER THE LIMIT"
    print(f"   peak growth {growth_mb:6.1f} MB   (limit {RSS_LIMIT_MB:.0f} MB: {verdict})")
    print("\n3. Throughput, same result, same endpoint")
    print(f"   export route      {f.export_s:7.2f} s  {f.export_bytes / MB / f.export_s:8.1f} MB/s")
    print(f"     web server CPU {f.export_cpu_s:.2f} s (re-parsing and neutralising every cell)")
    print(f"   boto3 get_object  {f.get_s:7.2f} s  {f.object_bytes / MB / f.get_s:8.1f} MB/s")
    print(f"   ratio export / GetObject {f.get_s / f.export_s:6.3f}  (by time, whole result)")
    print("   (GetObject: median of 3, the sandbox serves it from memory over loopback)")
    return 0 if first_ok and rss_ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="smd-bench-athena-") as tmp_name:
        tmp = Path(tmp_name)
        db_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
        upgrade(db_url)
        sandbox_port, web_port = free_port(), free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        web_url = f"http://127.0.0.1:{web_port}"
        base_env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "SMD_DATASETS": os.environ.get("SMD_DATASETS") or datasets_json(),
        }
        sandbox = start(
            [sys.executable, "-m", "sandbox", "--port", str(sandbox_port), "--no-simulator"],
            {**base_env, "SMD_SANDBOX_HISTORY_DAYS": "0"},
            tmp / "sandbox.log",
        )
        web = start(
            [sys.executable, "-m", "dashapp", "web", "--migrate", "--workers", "1"],
            {
                **base_env,
                "DATABASE_URL": db_url,
                "AWS_ENDPOINT_URL": sandbox_url,
                "SMD_PORT": str(web_port),
            },
            tmp / "web.log",
        )
        try:
            wait_seeded(sandbox_url, sandbox, tmp / "sandbox.log")
            wait_http(f"{web_url}/healthz", web, tmp / "web.log")
            settings = Settings(
                database_url=db_url,
                aws_endpoint_url=sandbox_url,
                datasets=base_env["SMD_DATASETS"],
                _env_file=None,
            )
            engine = make_engine(db_url)
            ctx = CollectorContext(
                name="athena",
                settings=settings,
                sessions=make_session_factory(engine),
                aws=AwsClients(settings),
                clock=SystemClock(),
            )
            # Warm up: clients, pools, the web worker's first export; as a running app is.
            warm = run_until_succeeded(ctx, SQL.format(rows=2000))
            block_rows(ctx, warm.execution_id, 0)
            download(f"{web_url}/export/athena/{warm.execution_id}.csv")
            s3 = boto3.client("s3", endpoint_url=sandbox_url, region_name="us-east-1")
            figures = measure(ctx, s3, (sandbox.pid, web.pid), web_url, args.rows)
            engine.dispose()
            return report(figures, args.rows, settings.database_url)
        finally:
            for proc in (web, sandbox):
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    raise SystemExit(main())
