"""Process faults: a gunicorn worker SIGKILLed while it completes an upload.

Why: a worker can die at any instant (OOM killer, a node drained); the upload the user
was sending must then be retryable to the end, and the uploads table must never keep a
row in a state nobody will move it out of. The kill lands right after the complete
request was accepted by the worker (its socket is in the worker's file descriptors),
wherever the worker then is (reading it, in S3's CompleteMultipartUpload, after the row
moved on): the invariant checked holds for every instant.

The other two process faults of issue 12 item 4 live where their processes are started:
tests/integration/test_collector_leader.py (SIGKILL of the active collector, the standby
takes over; it prints the take-over time) and tests/integration/test_demo.py
(`test_killing_the_demo_takes_every_part_with_it_and_frees_the_ports`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.procstat import children
from dashapp.actions.uploads.sniff import SAMPLE_BYTES
from dashapp.models import Upload
from tests.reliability.figure_report import report
from tests.sandbox_process import client, sandbox_process
from tests.uploads.parts_protocol import part_of, put_part
from tests.web_process import healthy, web_process

HEADERS = {"X-SMD-Upload": "1"}
ROW = b"100000,c-000042,1234.50,EUR,2026-11-25T10:00:00Z\n"
HEADER = b"order_id,customer_id,amount,currency,ordered_at\n"
SIZE = 70_000_000  # over the 64 MiB multipart threshold: completing asks S3 to assemble parts
RESPAWN_BOUND_S = 30.0


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sandbox_process(tmp_path_factory.mktemp("sbx"), history_days=0, simulate=False) as url:
        yield url


def _server_side_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the accepted socket serving our connection (the kernel's TCP table)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if (
                    int(local.rsplit(":", 1)[1], 16) == server_port
                    and int(remote.rsplit(":", 1)[1], 16) == client_port
                    and inode != "0"  # 0 until a process accept()s it
                ):
                    return inode
    return None


def _holds_socket(pid: int, inode: str | None) -> bool:
    """True once process `pid` has accept()ed the connection: the request is in its hands."""
    if inode is None:
        return False
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        with contextlib.suppress(OSError):
            if os.readlink(fd) == f"socket:[{inode}]":
                return True
    return False


def _wait(predicate: Any, timeout_s: float, what: str, every_s: float = 0.1) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout_s, f"{what} within {timeout_s} s"
        time.sleep(every_s)
    return time.monotonic() - start


@pytest.fixture
def web(sandbox: str, db_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The dashboard under gunicorn with one worker, so the worker to kill is known."""
    with web_process(db_url, sandbox, tmp_path / "web.log") as running:
        yield running


def _csv() -> bytes:
    return HEADER + ROW * ((SIZE - len(HEADER)) // len(ROW))


def _check_and_send(url: str, name: str, data: bytes) -> dict[str, Any]:
    """The page script's first two steps: the check (POST /api/uploads), then the parts."""
    r = requests.post(
        f"{url}/api/uploads",
        data={"dataset": "orders", "name": name, "size": str(len(data))},
        files={"sample": ("sample", data[:SAMPLE_BYTES])},
        headers=HEADERS,
        timeout=60,
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["method"] == "multipart" and plan["part_count"] >= 2, plan

    def sign(body: dict[str, Any]) -> dict[str, Any]:
        signed = requests.post(
            f"{url}/api/uploads/{plan['upload_id']}/parts", json=body, headers=HEADERS, timeout=60
        )
        signed.raise_for_status()
        return signed.json()

    for number in range(1, plan["part_count"] + 1):
        put_part(sign, plan, number, part_of(plan, data, number), timeout_s=60).raise_for_status()
    return plan


def _complete(url: str, plan: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{url}/api/uploads/{plan['upload_id']}/complete",
        json={"multipart_upload_id": plan["multipart_upload_id"]},
        headers=HEADERS,
        timeout=60,
    )


def _rows(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as s:
        return {u.id: u.status for u in s.scalars(select(Upload))}


def test_a_worker_killed_while_completing_an_upload_leaves_it_retryable(
    web: tuple[str, subprocess.Popen[bytes]],
    sandbox: str,
    sessions: sessionmaker[Session],
    request: pytest.FixtureRequest,
) -> None:
    url, master = web
    data = _csv()
    # The same upload with no fault: the state a completed upload ends in.
    control = _check_and_send(url, "orders-control.csv", data)
    done = _complete(url, control)
    assert done.status_code == 200, done.text
    final = _rows(sessions)[control["upload_id"]]

    plan = _check_and_send(url, "orders-killed.csv", data)
    [worker] = children(master.pid)
    conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=60)
    body = json.dumps({"multipart_upload_id": plan["multipart_upload_id"]})
    conn.request(
        "POST",
        f"/api/uploads/{plan['upload_id']}/complete",
        body=body,
        headers={**HEADERS, "Content-Type": "application/json"},
    )
    assert conn.sock is not None
    ports = int(url.rsplit(":", 1)[1]), conn.sock.getsockname()[1]
    _wait(
        lambda: _holds_socket(worker, _server_side_inode(*ports)),
        10,
        "the worker accepts the complete request",
        every_s=0.005,
    )
    killed_at = time.monotonic()
    os.kill(worker, signal.SIGKILL)
    try:
        in_flight = f"answered {conn.getresponse().status}"
    except (http.client.HTTPException, OSError) as e:
        in_flight = f"lost ({type(e).__name__})"
    finally:
        conn.close()
    respawn_s = _wait(
        lambda: any(p != worker for p in children(master.pid)) and healthy(url),
        RESPAWN_BOUND_S,
        "gunicorn replaces the killed worker",
    )
    assert in_flight.startswith("lost"), in_flight  # it was the killed worker's request
    between = _rows(sessions)[plan["upload_id"]]
    # Untouched (the retry finishes it) or finished; never failed or half-moved.
    assert between in ("validated", final), between

    retries = 0
    while _rows(sessions)[plan["upload_id"]] != final:
        retries += 1
        assert retries <= 3, _rows(sessions)
        answer = _complete(url, plan)
        assert answer.status_code == 200, answer.text
    again = _complete(url, plan)  # a browser that retries once more changes nothing
    assert again.status_code == 200, again.text
    rows = _rows(sessions)
    assert rows[plan["upload_id"]] == final
    assert sorted(rows) == sorted([control["upload_id"], plan["upload_id"]])
    head = client(sandbox, "s3").head_object(Bucket=plan["bucket"], Key=plan["key"])
    assert head["ContentLength"] == len(data), "the whole file, assembled once"
    recovered_s = time.monotonic() - killed_at
    assert master.poll() is None, "the gunicorn master outlives its worker"

    line = (
        f"in-flight complete {in_flight}; worker back in {respawn_s:.1f} s; row between "
        f"{between!r}; {retries} retr{'y' if retries == 1 else 'ies'} to {final!r}; "
        f"recovered {recovered_s:.1f} s after the kill"
    )
    report(request, "process-faults", [line])
