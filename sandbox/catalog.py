"""What lives in the sandbox account: Glue jobs, Lambda functions and how they behave.

Plain data, so the seed and the simulator agree, and tests can name a job that
exists. Behaviour figures (durations, volumes, failure rates, error texts) are
modelled on what such pipelines show in real accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dashapp.aws.glue import DPU_PER_WORKER

ACCOUNT_ID = "123456789012"
GLUE_ROLE = "smd-glue-job-role"
LAMBDA_ROLE = "smd-lambda-exec-role"
KMS_ALIAS = "alias/smd-data"
TRIGGER_QUEUE = "smd-sandbox-glue-triggers"


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    team: str
    schedule: str | None  # AWS cron; None: started by uploads only
    worker_type: str = "G.1X"
    workers: int = 2
    command: str = "glueetl"
    glue_version: str = "4.0"
    timeout_min: int = 60
    max_retries: int = 0
    max_concurrent_runs: int = 1
    median_s: float = 180.0  # typical run duration
    spread: float = 0.25  # log-normal sigma of the duration
    rows: int = 100_000  # typical rows read per run
    failure_rate: float = 0.07
    errors: tuple[str, ...] = ()
    timeout_rate: float = 0.0
    dataset: str | None = None
    source: str = "s3"

    @property
    def max_capacity(self) -> float:
        if self.command == "pythonshell":
            return 0.0625
        return self.workers * DPU_PER_WORKER.get(self.worker_type, 1.0)


_S3_DENIED = (
    "An error occurred while calling o119.getDynamicFrame. Access Denied (Service: Amazon S3; "
    "Status Code: 403; Error Code: AccessDenied; Request ID: 8K7Q2ZJ4W1XR0E3M)"
)
_OOM = (
    "Command failed with exit code 137 - Yarn resource manager killed the Spark application, "
    "please refer to SparkUI for details: Container killed on request. Exit code is 137 "
    "(java.lang.OutOfMemoryError: Java heap space)"
)
_STAGE = (
    "An error occurred while calling o142.pyWriteDynamicFrame. Job aborted due to stage failure: "
    "Task 17 in stage 6.0 failed 4 times, most recent failure: Lost task 17.3 in stage 6.0 "
    "(TID 412) (172.34.7.21 executor 3): org.apache.spark.SparkException: Task failed while "
    "writing rows to s3://smd-processed/"
)
_JDBC = (
    "An error occurred while calling o98.getDynamicFrame. Communications link failure: "
    "The last packet sent successfully to the server was 0 milliseconds ago. "
    "(jdbc:postgresql://orders-db.internal:5432/orders, connect timed out after 30000 ms)"
)
_THROTTLE = (
    "An error occurred while calling o77.pyWriteDynamicFrame. Rate exceeded "
    "(Service: AmazonDynamoDBv2; Status Code: 400; "
    "Error Code: ProvisionedThroughputExceededException)"
)


def _schema(col: str, alt: str) -> str:
    return (
        f"AnalysisException: Column '{col}' does not exist. Did you mean one of the following? "
        f"[{alt}]; line 1 pos 7"
    )


JOBS: tuple[JobSpec, ...] = (
    # --- dataset jobs: started by uploads under their raw prefix -------------------------------
    JobSpec(
        name="sales-orders-ingest",
        description="Validates uploaded order files and writes them to the processed zone.",
        team="commerce-data",
        schedule=None,
        dataset="orders",
        workers=2,
        max_concurrent_runs=10,
        max_retries=1,
        median_s=95,
        rows=40_000,
        failure_rate=0.06,
        errors=(_schema("customer_id", "customerid, customer_name, customer_email"), _S3_DENIED),
    ),
    JobSpec(
        name="crm-customers-ingest",
        description="Loads customer master files from the CRM export into the processed zone.",
        team="crm-data",
        schedule=None,
        dataset="customers",
        workers=2,
        max_concurrent_runs=5,
        median_s=140,
        rows=250_000,
        failure_rate=0.05,
        errors=(_schema("email", "e_mail, email_address"), _STAGE),
    ),
    JobSpec(
        name="web-clickstream-ingest",
        description="Parses page-view events (JSON/NDJSON) and partitions them by hour.",
        team="web-analytics",
        schedule=None,
        dataset="clickstream",
        worker_type="G.2X",
        workers=4,
        max_concurrent_runs=10,
        median_s=75,
        rows=1_200_000,
        failure_rate=0.08,
        errors=(_OOM, _STAGE),
    ),
    JobSpec(
        name="ops-inventory-snapshot",
        description="Ingests warehouse stock-level snapshots uploaded by the WMS.",
        team="supply-chain",
        schedule=None,
        dataset="inventory",
        command="pythonshell",
        glue_version="3.0",
        workers=1,
        max_concurrent_runs=3,
        median_s=40,
        rows=18_000,
        failure_rate=0.05,
        errors=(_schema("sku", "SKU, item_sku"),),
    ),
    # --- scheduled jobs -----------------------------------------------------------------------
    JobSpec(
        name="web-sessionize-hourly",
        description="Stitches page views into sessions for the previous hour.",
        team="web-analytics",
        schedule="cron(5 * * * ? *)",
        worker_type="G.2X",
        workers=6,
        median_s=420,
        rows=2_400_000,
        failure_rate=0.06,
        errors=(_OOM, _STAGE),
    ),
    JobSpec(
        name="iot-telemetry-compact",
        description="Compacts small telemetry files into 512 MB Parquet objects.",
        team="platform",
        schedule="cron(*/15 * * * ? *)",
        workers=3,
        median_s=110,
        rows=600_000,
        failure_rate=0.05,
        errors=(_THROTTLE, _S3_DENIED),
    ),
    JobSpec(
        name="payments-reconciliation",
        description="Matches PSP settlement reports against ledger entries.",
        team="finance-data",
        schedule="cron(0 */2 * * ? *)",
        workers=4,
        max_retries=2,
        median_s=640,
        rows=320_000,
        failure_rate=0.09,
        errors=(_JDBC, _schema("settlement_id", "settlementid, psp_reference")),
    ),
    JobSpec(
        name="finance-ledger-daily-rollup",
        description="Rolls up the general ledger per cost centre for the finance mart.",
        team="finance-data",
        schedule="cron(30 2 * * ? *)",
        worker_type="G.2X",
        workers=10,
        timeout_min=120,
        median_s=1900,
        rows=14_000_000,
        failure_rate=0.07,
        timeout_rate=0.02,
        errors=(_STAGE, _JDBC),
    ),
    JobSpec(
        name="marketing-attribution-model",
        description="Computes multi-touch attribution for campaigns of the previous day.",
        team="marketing-analytics",
        schedule="cron(0 4 * * ? *)",
        workers=20,
        timeout_min=180,
        median_s=2600,
        rows=38_000_000,
        failure_rate=0.08,
        timeout_rate=0.03,
        errors=(_OOM, _schema("campaign_id", "campaignid, utm_campaign")),
    ),
    JobSpec(
        name="ml-feature-store-build",
        description="Builds the customer feature table for the churn model.",
        team="data-science",
        schedule="cron(0 3 ? * MON-FRI *)",
        worker_type="G.4X",
        workers=10,
        timeout_min=240,
        median_s=3300,
        rows=9_500_000,
        failure_rate=0.1,
        errors=(_OOM, _STAGE),
    ),
    JobSpec(
        name="dq-checks-orders",
        description="Runs data-quality rules on yesterday's orders and flags anomalies.",
        team="commerce-data",
        schedule="cron(40 * * * ? *)",
        command="pythonshell",
        glue_version="3.0",
        median_s=55,
        rows=40_000,
        failure_rate=0.05,
        errors=(
            "DataQualityRuleFailure: rule 'amount >= 0' failed for 37 of 40,112 rows "
            "(first failing order_id: ORD-2026-118842)",
        ),
    ),
    JobSpec(
        name="support-tickets-enrich",
        description="Joins support tickets with customer tiers for the CX dashboard.",
        team="cx-data",
        schedule="cron(15 */3 * * ? *)",
        workers=3,
        median_s=260,
        rows=85_000,
        failure_rate=0.06,
        errors=(_JDBC, _S3_DENIED),
    ),
    JobSpec(
        name="s3-small-files-compaction",
        description="Nightly compaction of the raw zone's small objects.",
        team="platform",
        schedule="cron(0 1 * * ? *)",
        worker_type="G.2X",
        workers=8,
        median_s=1500,
        rows=22_000_000,
        failure_rate=0.05,
        errors=(_S3_DENIED, _THROTTLE),
    ),
)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    runtime: str
    memory_mb: int
    timeout_s: int
    peak_per_min: float  # invocations a minute at the daily peak
    duration_ms: float  # median duration
    duration_spread: float = 0.45  # log-normal sigma
    error_rate: float = 0.01
    reserved_concurrency: int | None = None
    team: str = "platform"
    error_lines: tuple[str, ...] = field(default=())

    @property
    def handler(self) -> str:
        if self.runtime.startswith("nodejs"):
            return "index.handler"
        if self.runtime.startswith("java"):
            return "com.example.Handler::handleRequest"
        if self.runtime.startswith("provided"):
            return "bootstrap"
        return "app.handler"


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "s3-upload-validator",
        "Checks new raw objects before Glue picks them up.",
        "python3.12",
        256,
        60,
        peak_per_min=6,
        duration_ms=420,
        error_rate=0.02,
        team="platform",
        error_lines=("ValueError: header row missing in s3://smd-raw/crm/customers/",),
    ),
    FunctionSpec(
        "glue-job-state-notifier",
        "Posts Glue job failures to the on-call channel.",
        "python3.12",
        128,
        30,
        peak_per_min=4,
        duration_ms=180,
        error_rate=0.01,
        error_lines=("urllib.error.HTTPError: HTTP Error 429: Too Many Requests",),
    ),
    FunctionSpec(
        "orders-api-handler",
        "REST API for order lookups (API Gateway proxy).",
        "nodejs20.x",
        512,
        29,
        peak_per_min=1800,
        duration_ms=48,
        duration_spread=0.6,
        error_rate=0.004,
        reserved_concurrency=200,
        team="commerce",
        error_lines=("TypeError: Cannot read properties of undefined (reading 'orderId')",),
    ),
    FunctionSpec(
        "clickstream-collector",
        "Receives page-view beacons and writes them to Firehose.",
        "nodejs20.x",
        256,
        10,
        peak_per_min=4200,
        duration_ms=22,
        duration_spread=0.5,
        error_rate=0.002,
        reserved_concurrency=300,
        team="web-analytics",
        error_lines=("ServiceUnavailableException: Slow down. (Firehose PutRecordBatch)",),
    ),
    FunctionSpec(
        "auth-token-authorizer",
        "JWT authorizer for the public APIs.",
        "nodejs20.x",
        128,
        5,
        peak_per_min=2600,
        duration_ms=9,
        duration_spread=0.4,
        error_rate=0.001,
        team="identity",
        error_lines=("JsonWebTokenError: jwt malformed",),
    ),
    FunctionSpec(
        "image-thumbnailer",
        "Makes catalogue thumbnails for new product images.",
        "python3.12",
        1024,
        120,
        peak_per_min=35,
        duration_ms=1900,
        error_rate=0.015,
        team="commerce",
        error_lines=("PIL.UnidentifiedImageError: cannot identify image file '/tmp/upload.webp'",),
    ),
    FunctionSpec(
        "athena-query-scheduler",
        "Starts the scheduled Athena reports.",
        "python3.12",
        256,
        300,
        peak_per_min=2,
        duration_ms=2400,
        error_rate=0.03,
        team="bi",
        error_lines=(
            "botocore.errorfactory.InvalidRequestException: Queries of this type are not supported",
        ),
    ),
    FunctionSpec(
        "partner-feed-fetcher",
        "Downloads partner SFTP feeds into the raw zone.",
        "python3.11",
        512,
        900,
        peak_per_min=1,
        duration_ms=38000,
        duration_spread=0.35,
        error_rate=0.05,
        team="commerce-data",
        error_lines=("paramiko.ssh_exception.SSHException: Error reading SSH protocol banner",),
    ),
    FunctionSpec(
        "invoice-pdf-renderer",
        "Renders invoice PDFs for the billing run.",
        "java21",
        2048,
        120,
        peak_per_min=60,
        duration_ms=3100,
        duration_spread=0.5,
        error_rate=0.012,
        reserved_concurrency=20,
        team="finance",
        error_lines=("java.lang.OutOfMemoryError: Metaspace",),
    ),
    FunctionSpec(
        "customer-events-router",
        "Fans customer events out to downstream queues.",
        "python3.12",
        256,
        30,
        peak_per_min=900,
        duration_ms=35,
        error_rate=0.006,
        team="crm",
        error_lines=("botocore.exceptions.ClientError: An error occurred (ThrottlingException)",),
    ),
    FunctionSpec(
        "dq-alert-dispatcher",
        "Sends data-quality alerts raised by dq-checks-* jobs.",
        "python3.12",
        128,
        30,
        peak_per_min=1.5,
        duration_ms=260,
        error_rate=0.02,
        team="commerce-data",
        error_lines=("KeyError: 'rule_name'",),
    ),
    FunctionSpec(
        "nightly-export-trigger",
        "Kicks off nightly exports to the partner buckets.",
        "python3.12",
        128,
        60,
        peak_per_min=0.5,
        duration_ms=650,
        error_rate=0.02,
        error_lines=("botocore.exceptions.ClientError: AccessDenied on s3:PutObject",),
    ),
    FunctionSpec(
        "webhook-receiver",
        "Receives PSP webhooks and queues them for reconciliation.",
        "provided.al2023",
        128,
        10,
        peak_per_min=320,
        duration_ms=14,
        duration_spread=0.5,
        error_rate=0.003,
        team="finance",
        error_lines=("panic: runtime error: invalid memory address or nil pointer dereference",),
    ),
)


def job(name: str) -> JobSpec:
    for spec in JOBS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def scaled(
    total_jobs: int, total_functions: int, *, seed: int = 1
) -> tuple[list[JobSpec], list[FunctionSpec]]:
    """The catalogue grown to a size (for load benchmarks): copies of its jobs and functions
    under new names, scheduled at spread-out minutes, with lighter traffic per function."""
    import random
    from dataclasses import replace

    rng = random.Random(seed)
    jobs = list(JOBS)
    scheduled = [j for j in JOBS if j.schedule]
    while len(jobs) < total_jobs:
        base = rng.choice(scheduled)
        jobs.append(
            replace(
                base,
                name=f"{base.name}-{len(jobs):04d}",
                schedule=f"cron({rng.randint(0, 59)} * * * ? *)",
                median_s=min(base.median_s, 600),
            )
        )
    functions = list(FUNCTIONS)
    while len(functions) < total_functions:
        base = rng.choice(FUNCTIONS)
        functions.append(
            replace(
                base,
                name=f"{base.name}-{len(functions):04d}",
                peak_per_min=max(0.5, base.peak_per_min / 50),
            )
        )
    return jobs, functions
