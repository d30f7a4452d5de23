"""Uploading a 1 GB file through the web app's upload path: as fast as boto3, at no memory
cost to the web server.

Prints, all measured in this one run against the sandbox (`python -m sandbox`)
and the web app under gunicorn (`python -m dashapp web`), each its own process:
1. the web server's peak RSS growth (master + workers, sampled every 20 ms) while a
   1 GB CSV goes through the same HTTP API the page's script uses: POST /api/uploads
   with the first megabyte → a multipart plan declaring CRC32 → per part, four at a time
   as the browser does: read it, CRC32 it (zlib here, crc-32 in the page), POST
   /api/uploads/<id>/parts for its URL signed with that checksum, PUT it straight to S3
   with the checksum header → POST /api/uploads/<id>/complete (ListParts, then
   CompleteMultipartUpload naming each part's checksum: nobody re-reads the object).
   It must stay < 50 MB;
2. that upload's throughput against boto3's `upload_file` of the same file to the same
   endpoint (default TransferConfig: 8 MiB parts, 10 threads, CRC32 declared too), as a
   ratio (boto3 time / app time; the issue's target is ≥ 0.8), with the app's phases
   (check, parts, complete) beside boto3's CompleteMultipartUpload, and, summed over the
   part threads, where the parts' time went (read, CRC32, signing, PUT). With --rounds N
   the two alternate N times and the median ratio is printed too.

Usage: .venv/bin/python bench/upload.py [--size-mb 1024] [--rounds 3]
       [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The sandbox takes any credentials; never pick up a real profile by accident.
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")
os.environ.pop("AWS_PROFILE", None)

import boto3  # noqa: E402
import requests  # noqa: E402

from dashapp.actions.uploads.sniff import SAMPLE_BYTES  # noqa: E402
from dashapp.db import upgrade  # noqa: E402
from sandbox.datasets import datasets_json  # noqa: E402
from tests.sandbox_process import free_port  # noqa: E402
from tests.uploads.parts_protocol import crc32_base64, sign_part  # noqa: E402

MB = 1_000_000
PARALLEL_PARTS = 4  # as assets/smd-upload.js
RSS_LIMIT_MB = 50.0


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url} exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} not ready in {timeout_s} s:\n{log.read_text()[-3000:]}")


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def tree_pids(pid: int) -> list[int]:
    """The process and all its descendants (gunicorn master and workers)."""
    out, pending = [], [pid]
    while pending:
        p = pending.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                pending.extend(int(c) for c in (task / "children").read_text().split())
    return out


def rss_bytes(pid: int) -> int:
    total = 0
    for p in tree_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class RssSampler:
    """Peak RSS of a process tree, sampled in a thread while a block runs."""

    def __init__(self, pid: int, every_s: float = 0.02) -> None:
        self.pid, self.every_s = pid, every_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self.pid))


def make_csv(path: Path, size: int) -> int:
    """A valid orders CSV of about `size` bytes (whole rows); its exact size."""
    header = b"order_id,customer_id,amount,currency,ordered_at\n"
    row = b"100000,c-000042,1234.50,EUR,2026-11-25T10:00:00Z\n"
    rows = (size - len(header)) // len(row)
    block_rows = 4 * MB // len(row)
    with open(path, "wb") as f:
        f.write(header)
        for start in range(0, rows, block_rows):
            f.write(row * min(block_rows, rows - start))
    return path.stat().st_size


class PartTimes:
    """Seconds the part threads spent in each step, summed over threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds = {"read": 0.0, "crc32": 0.0, "sign": 0.0, "put": 0.0}

    def add(self, step: str, started: float) -> float:
        now = time.perf_counter()
        with self._lock:
            self.seconds[step] += now - started
        return now


def app_upload(web: str, path: Path, name: str) -> dict[str, Any]:
    """The page script's protocol, in Python: check, send the parts straight to S3 with their
    CRC32s, complete."""
    size = path.stat().st_size
    headers = {"X-SMD-Upload": "1"}
    with open(path, "rb") as f:
        sample = f.read(min(size, SAMPLE_BYTES))
    started = time.perf_counter()
    r = requests.post(
        f"{web}/api/uploads",
        data={"dataset": "orders", "name": name, "size": str(size)},
        files={"sample": ("sample", sample)},
        headers=headers,
        timeout=60,
    )
    r.raise_for_status()
    plan = r.json()
    phases = {"start": started, "check": time.perf_counter()}
    local = threading.local()  # a connection pool per part thread, to the web app and to S3
    times = PartTimes()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session

    def sign(body: dict[str, Any]) -> dict[str, Any]:
        signed = session().post(
            f"{web}/api/uploads/{plan['upload_id']}/parts", json=body, headers=headers, timeout=60
        )
        signed.raise_for_status()
        return signed.json()

    def put(number: int) -> None:
        for attempt in range(4):
            try:
                t = time.perf_counter()
                with open(path, "rb") as f:
                    f.seek((number - 1) * plan["part_size"])
                    data = f.read(plan["part_size"])
                t = times.add("read", t)
                crc32 = crc32_base64(data)
                t = times.add("crc32", t)
                signed = sign_part(sign, plan, number, crc32)
                t = times.add("sign", t)
                session().put(
                    signed["url"], data=data, headers=signed["headers"], timeout=300
                ).raise_for_status()
                times.add("put", t)
                return
            except requests.RequestException:
                if attempt == 3:
                    raise
                time.sleep(0.5 * 2**attempt)

    if plan["method"] == "multipart":
        with ThreadPoolExecutor(PARALLEL_PARTS) as pool:
            list(pool.map(put, range(1, plan["part_count"] + 1)))
    else:
        with open(path, "rb") as f:
            post = plan["post"]
            requests.post(post["url"], data=post["fields"], files={"file": f}).raise_for_status()
    phases["send"] = time.perf_counter()
    done = requests.post(
        f"{web}/api/uploads/{plan['upload_id']}/complete",
        json={"multipart_upload_id": plan["multipart_upload_id"]},
        headers=headers,
        timeout=900,
    )
    if not done.ok:
        raise SystemExit(f"complete answered {done.status_code}: {done.text}")
    phases["complete"] = time.perf_counter()
    return {**plan, **done.json(), "phases": phases, "part_times": times.seconds}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


class CallTimer:
    """Seconds the client's calls of one operation took (botocore events), for boto3's phases."""

    def __init__(self, s3: Any, operation: str) -> None:
        self.seconds: list[float] = []
        self._started: dict[int, float] = {}
        s3.meta.events.register(f"before-call.s3.{operation}", self._before)
        s3.meta.events.register(f"after-call.s3.{operation}", self._after)

    def _before(self, **_: Any) -> None:
        self._started[threading.get_ident()] = time.perf_counter()

    def _after(self, **_: Any) -> None:
        self.seconds.append(time.perf_counter() - self._started.pop(threading.get_ident()))


def boto3_upload(s3: Any, completes: CallTimer, path: Path, size: int) -> float:
    """The baseline: boto3's managed upload of the same file (default TransferConfig); the
    seconds its CompleteMultipartUpload took."""
    key = "bench/boto3-upload_file.csv"
    s3.upload_file(str(path), "smd-raw", key)
    assert s3.head_object(Bucket="smd-raw", Key=key)["ContentLength"] == size
    s3.delete_object(Bucket="smd-raw", Key=key)
    return completes.seconds[-1] if completes.seconds else 0.0


def watched_app_upload(
    web: str, web_pid: int, s3: Any, path: Path, name: str
) -> tuple[dict[str, Any], int]:
    """The app's upload of `path` and the web server's peak RSS meanwhile; the object is
    checked (its size) and removed afterwards."""
    with RssSampler(web_pid) as sampler:
        result = app_upload(web, path, name)
    head = s3.head_object(Bucket="smd-raw", Key=result["key"])
    assert head["ContentLength"] == path.stat().st_size, head["ContentLength"]
    s3.delete_object(Bucket="smd-raw", Key=result["key"])
    return result, sampler.peak


def print_round(
    number: int,
    size: int,
    app_s: float,
    boto_s: float,
    boto_complete_s: float,
    result: dict[str, Any],
) -> None:
    ph, spent = result["phases"], result["part_times"]
    print(
        f"   round {number}: app {app_s:6.2f} s {size / MB / app_s:6.1f} MB/s, "
        f"boto3 upload_file {boto_s:6.2f} s {size / MB / boto_s:6.1f} MB/s, "
        f"ratio app / boto3 {boto_s / app_s:5.2f}"
    )
    print(
        f"     app phases: check {ph['check'] - ph['start']:.2f} s, parts "
        f"{ph['send'] - ph['check']:.2f} s, complete {ph['complete'] - ph['send']:.2f} s; "
        f"boto3's CompleteMultipartUpload {boto_complete_s:.2f} s"
    )
    threads = ", ".join(f"{step} {seconds:.2f} s" for step, seconds in spent.items())
    print(f"     part threads ({PARALLEL_PARTS}), summed: {threads}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024, help="file size in MB (10^6 bytes)")
    ap.add_argument("--rounds", type=int, default=3, help="app and boto3 uploads, alternating")
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    size = args.size_mb * MB

    with tempfile.TemporaryDirectory(prefix="smd-bench-upload-") as tmp_name:
        tmp = Path(tmp_name)
        db_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
        upgrade(db_url)
        sandbox_port, web_port = free_port(), free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        web_url = f"http://127.0.0.1:{web_port}"
        base_env = {**os.environ, "PYTHONUNBUFFERED": "1", "SMD_DATASETS": datasets_json()}
        sandbox = start(
            [sys.executable, "-m", "sandbox", "--port", str(sandbox_port), "--no-simulator"],
            {**base_env, "SMD_SANDBOX_HISTORY_DAYS": "0"},
            tmp / "sandbox.log",
        )
        web = start(
            [sys.executable, "-m", "dashapp", "web", "--workers", "1", "--threads", "8"],
            {
                **base_env,
                "DATABASE_URL": db_url,
                "AWS_ENDPOINT_URL": sandbox_url,
                "SMD_PORT": str(web_port),
                "SMD_UPLOAD_MAX_BYTES": str(size * 2),
            },
            tmp / "web.log",
        )
        try:
            wait_http(f"{sandbox_url}/_sandbox/health", sandbox, tmp / "sandbox.log")
            wait_http(f"{web_url}/healthz", web, tmp / "web.log")
            path = tmp / "orders-bench.csv"
            print(f"Writing a {size / MB:,.0f} MB CSV …")
            size = make_csv(path, size)
            # Warm up: imports, connection pools and the first request's allocations.
            small = tmp / "warm.csv"
            make_csv(small, 70 * MB)  # multipart: signs parts and completes once
            app_upload(web_url, small, "warm.csv")
            s3 = boto3.client("s3", endpoint_url=sandbox_url, region_name="us-east-1")
            completes = CallTimer(s3, "CompleteMultipartUpload")
            boto3_upload(s3, completes, small, small.stat().st_size)

            baseline_rss = rss_bytes(web.pid)
            peak_rss = baseline_rss
            rounds: list[tuple[float, float, float, dict[str, Any]]] = []
            for number in range(args.rounds):
                app = partial(watched_app_upload, web_url, web.pid, s3, path, f"bench-{number}.csv")
                baseline = partial(boto3_upload, s3, completes, path, size)
                if number % 2:  # every other round boto3 goes first (warm caches, fuller heap)
                    boto_s, boto_complete_s = timed(baseline)
                    app_s, (result, peak) = timed(app)
                else:
                    app_s, (result, peak) = timed(app)
                    boto_s, boto_complete_s = timed(baseline)
                peak_rss = max(peak_rss, peak)
                rounds.append((app_s, boto_s, boto_complete_s, result))

            result = rounds[0][3]
            growth_mb = (peak_rss - baseline_rss) / MB
            print(f"\n1. Web server memory while {size / MB:,.0f} MB went through the upload path")
            print(
                f"   method {result['method']}, {result['part_count']} parts of "
                f"{(result['part_size'] or size) / MB:.1f} MB with their "
                f"{result['checksum_algorithm']}, status {result['status']}"
            )
            print(f"   RSS before {baseline_rss / MB:8.1f} MB   peak {peak_rss / MB:8.1f} MB")
            verdict = "OK" if growth_mb < RSS_LIMIT_MB else "OVER THE LIMIT"
            print(f"   peak growth {growth_mb:6.1f} MB   (limit {RSS_LIMIT_MB:.0f} MB: {verdict})")
            print("\n2. Throughput, same file, same endpoint (ratio = boto3 time / app time)")
            for number, (app_s, boto_s, boto_complete_s, result) in enumerate(rounds, 1):
                print_round(number, size, app_s, boto_s, boto_complete_s, result)
            ratios = [boto_s / app_s for app_s, boto_s, _, _ in rounds]
            print(
                f"   ratio app / boto3: median {statistics.median(ratios):.2f} "
                f"over {len(ratios)} round(s) (target ≥ 0.80)"
            )
            return 0 if growth_mb < RSS_LIMIT_MB else 1
        finally:
            for proc in (web, sandbox):
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    raise SystemExit(main())
