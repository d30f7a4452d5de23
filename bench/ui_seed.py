"""Fill a PostgreSQL database with production-sized history for `bench/ui.py`.

1,000 Glue jobs with 1,000,000 runs over 400 days, 1,000 Lambda functions with
about 5,000,000 one-minute metric points, Glue logs for the newest runs. Written
with COPY (psycopg), so seeding takes minutes, not hours; a database already
holding the same sizes is reused, so the benchmark can be run again quickly.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from sqlalchemy.engine import make_url

from dashapp.aws.cloudwatch import LAMBDA_SERIES

DOMAINS = ("sales", "crm", "web", "ops", "finance", "marketing", "ml", "hr", "iot", "billing")
VERBS = ("ingest", "rollup", "dedupe", "enrich", "export", "snapshot", "compact", "join")
ERRORS = (
    "An error occurred while calling o118.pyWriteDynamicFrame. Access Denied (Service: Amazon S3; "
    "Status Code: 403)",
    "AnalysisException: cannot resolve 'customer_id' given input columns",
    "Command failed with exit code 1: MemoryError in executor 3",
    "ConcurrentRunsExceededException: Concurrent runs exceeded for job",
    "Rate exceeded (Service: AWSGlue; Status Code: 400; Error Code: ThrottlingException)",
)


@dataclass(frozen=True)
class Sizes:
    jobs: int = 1000
    runs: int = 1_000_000
    functions: int = 1000
    metric_points: int = 5_000_000
    log_lines_per_run: int = 40
    logged_runs: int = 2000

    @property
    def minutes(self) -> int:
        """Minutes of Lambda history so functions × series × minutes ≈ metric_points."""
        return max(1, self.metric_points // (self.functions * len(LAMBDA_SERIES)))


def job_names(n: int, datasets_jobs: tuple[str, ...]) -> list[str]:
    """Realistic job names; the configured datasets' jobs come first so SLA badges apply."""
    names = list(datasets_jobs)
    i = 0
    while len(names) < n:
        name = f"{DOMAINS[i % len(DOMAINS)]}-{VERBS[(i // 10) % len(VERBS)]}-{i:04d}"
        if name not in names:
            names.append(name)
        i += 1
    return names[:n]


def pg_conninfo(url: str) -> str:
    """A psycopg connection string for a SQLAlchemy PostgreSQL URL."""
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def seeded_sizes(conn: psycopg.Connection) -> tuple[int, int, int]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM glue_jobs), (SELECT count(*) FROM job_runs),"
            " (SELECT count(*) FROM metric_points)"
        )
        row = cur.fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _ts(value: datetime) -> str:
    return value.isoformat()


def _runs(
    names: list[str], sizes: Sizes, now: datetime, rng: random.Random
) -> Iterator[tuple[object, ...]]:
    per_job = sizes.runs // len(names)
    span_s = 400 * 86400
    for j, name in enumerate(names):
        base_duration = rng.uniform(60, 3600)
        step = span_s / per_job
        for k in range(per_job):
            started = now - timedelta(seconds=span_s - k * step - rng.uniform(0, step / 2))
            newest = k == per_job - 1
            r = rng.random()
            if newest and j % 25 == 0:
                state = "RUNNING"
            elif r < 0.06:
                state = "FAILED"
            elif r < 0.065:
                state = "TIMEOUT"
            else:
                state = "SUCCEEDED"
            duration = max(5.0, rng.gauss(base_duration, base_duration * 0.15))
            completed = None if state == "RUNNING" else started + timedelta(seconds=duration)
            rows = int(rng.uniform(1e4, 5e6))
            yield (
                f"jr_{j:04d}_{k:07d}_{rng.getrandbits(64):016x}",
                name,
                state,
                _ts(started),
                _ts(completed) if completed else None,
                _ts(completed or started),
                None if state == "RUNNING" else round(duration, 1),
                None if state == "RUNNING" else round(duration * rng.choice((2, 5, 10)), 1),
                "G.1X",
                rng.choice((2, 5, 10)),
                0,
                None if rng.random() < 0.7 else f"{name}-schedule",
                json.dumps({"--input_path": f"s3://smd-raw/{name}/{k}.csv"}),
                rng.choice(ERRORS) if state in ("FAILED", "TIMEOUT") else None,
                rows if state == "SUCCEEDED" else None,
                int(rows * 0.98) if state == "SUCCEEDED" else None,
                _ts(now),
            )


def _metric_points(
    functions: list[str], sizes: Sizes, now: datetime, rng: random.Random
) -> Iterator[tuple[object, ...]]:
    end = now.replace(second=0, microsecond=0)
    minutes = sizes.minutes
    for name in functions:
        load = rng.uniform(5, 500)
        for m in range(minutes):
            ts = _ts(end - timedelta(minutes=minutes - m))
            inv = max(0.0, rng.gauss(load, load * 0.2))
            avg = rng.uniform(20, 400)
            values = (inv, inv * 0.01, 0.0, avg, avg * 2.2, avg * 3.1, avg * 4.0, inv / 30)
            for (metric, stat), value in zip(LAMBDA_SERIES, values, strict=True):
                yield ("lambda_function", name, "", metric, stat, ts, 60, round(value, 3))


def seed(url: str, sizes: Sizes, now: datetime, datasets_jobs: tuple[str, ...]) -> None:
    """Write the whole history in one go (the caller has run the migrations)."""
    rng = random.Random(7)
    names = job_names(sizes.jobs, datasets_jobs)
    functions = [f"{DOMAINS[i % len(DOMAINS)]}-handler-{i:04d}" for i in range(sizes.functions)]
    with psycopg.connect(pg_conninfo(url), autocommit=False) as conn, conn.cursor() as cur:
        cur.execute(
            "TRUNCATE glue_jobs, job_runs, lambda_functions, metric_points, log_streams,"
            " log_events, collector_status"
        )
        with cur.copy(
            "COPY glue_jobs (name, description, worker_type, number_of_workers, schedule,"
            " default_arguments, tags, first_seen_at, last_seen_at) FROM STDIN"
        ) as copy:
            for i, name in enumerate(names):
                copy.write_row(
                    (
                        name,
                        f"Nightly {name.replace('-', ' ')}",
                        "G.1X",
                        10,
                        "cron(0 2 * * ? *)" if i % 3 else None,
                        "{}",
                        json.dumps({"team": DOMAINS[i % len(DOMAINS)]}),
                        _ts(now - timedelta(days=400)),
                        _ts(now),
                    )
                )
        with cur.copy(
            "COPY job_runs (run_id, job_name, state, started_at, completed_at, last_modified_at,"
            " duration_s, dpu_seconds, worker_type, number_of_workers, attempt, trigger_name,"
            " arguments, error_message, rows_read, rows_written, observed_at) FROM STDIN"
        ) as copy:
            for row in _runs(names, sizes, now, rng):
                copy.write_row(row)
        with cur.copy(
            "COPY lambda_functions (name, arn, runtime, memory_mb, timeout_s, description, tags,"
            " first_seen_at, last_seen_at) FROM STDIN"
        ) as copy:
            for name in functions:
                copy.write_row(
                    (
                        name,
                        f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                        "python3.12",
                        512,
                        30,
                        "",
                        "{}",
                        _ts(now - timedelta(days=400)),
                        _ts(now),
                    )
                )
        with cur.copy(
            "COPY metric_points (resource_type, resource_name, dimension, metric, stat, ts,"
            " period_s, value) FROM STDIN"
        ) as copy:
            for row in _metric_points(functions, sizes, now, rng):
                copy.write_row(row)
        _seed_logs(cur, sizes, now, rng)
        for name in ("inventory", "glue_runs", "events", "metrics", "logs", "log_follow"):
            cur.execute(
                "INSERT INTO collector_status (name, interval_s, last_started_at,"
                " last_success_at, last_outcome, last_duration_s, last_api_calls, last_items,"
                " api_calls_total, cycles_total, errors_total, api_calls_by_operation)"
                " VALUES (%s, 60, %s, %s, 'ok', 0.5, 3, 10, 100, 10, 0, '{}')",
                (name, now, now),
            )
        conn.commit()
        cur.execute("ANALYZE")


def _seed_logs(cur: psycopg.Cursor, sizes: Sizes, now: datetime, rng: random.Random) -> None:
    """Driver logs of the newest runs: what a log tail reads."""
    cur.execute(
        "SELECT run_id, job_name, started_at FROM job_runs ORDER BY started_at DESC LIMIT %s",
        (sizes.logged_runs,),
    )
    runs = cur.fetchall()
    with cur.copy(
        "COPY log_streams (log_group, log_stream, resource_type, resource_name, run_id,"
        " first_event_at, last_event_at, events_stored, following) FROM STDIN"
    ) as copy:
        for run_id, job, started in runs:
            end = started + timedelta(seconds=sizes.log_lines_per_run)
            copy.write_row(
                (
                    "/aws-glue/jobs/output",
                    run_id,
                    "glue_job",
                    job,
                    run_id,
                    started,
                    end,
                    sizes.log_lines_per_run,
                    False,
                )
            )
    with cur.copy(
        "COPY log_events (event_key, log_group, log_stream, ts, level, message) FROM STDIN"
    ) as copy:
        for run_id, _job, started in runs:
            for i in range(sizes.log_lines_per_run):
                level = "ERROR" if rng.random() < 0.02 else "INFO"
                copy.write_row(
                    (
                        f"{run_id}:{i}",
                        "/aws-glue/jobs/output",
                        run_id,
                        started + timedelta(seconds=i),
                        level,
                        f"{level} stage {i}: processed {rng.randint(1, 10**6)} records",
                    )
                )
