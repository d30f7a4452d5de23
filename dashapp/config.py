"""Configuration: one typed settings object read from the environment (or `.env`).

Every knob the product has lives here, documented, so `python -m dashapp config`
and the README table are generated from the same source and cannot drift.
Invalid values stop start-up with one line naming the setting (`load_settings`).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dashapp import auth_config
from dashapp.config_json import loads_setting
from dashapp.pipeline_config import (  # re-exported: the settings' nested shapes
    _BUCKET_RE,
    DEFAULT_TRANSIENT_PATTERNS,
    Dataset,
    RetryPolicy,
)

__all__ = [
    "DEFAULT_TRANSIENT_PATTERNS",
    "ConfigError",
    "Dataset",
    "RetryPolicy",
    "Settings",
]


class ConfigError(Exception):
    """A configuration problem, phrased as the one line an operator needs to read."""


def _s(description: str, **kw: Any) -> Any:
    return Field(description=description, **kw)


class Settings(BaseSettings):
    """Effective configuration. Env vars are `SMD_<FIELD>` unless an alias says otherwise."""

    model_config = SettingsConfigDict(
        env_prefix="SMD_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        frozen=True,
    )

    # --- where things are -------------------------------------------------
    database_url: str = Field(
        "sqlite:///var/smd.sqlite3",
        validation_alias=AliasChoices("DATABASE_URL", "SMD_DATABASE_URL"),
        description="SQLAlchemy URL of the database (PostgreSQL in production).",
    )
    aws_region: str = Field(
        "us-east-1",
        validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION", "SMD_AWS_REGION"),
        description="AWS region of every client.",
    )
    aws_endpoint_url: str | None = Field(
        None,
        validation_alias=AliasChoices("AWS_ENDPOINT_URL", "SMD_AWS_ENDPOINT_URL"),
        description="Send every AWS call here instead of AWS (the sandbox, moto).",
    )
    aws_connect_timeout_s: float = _s("boto3 connect timeout.", default=3.0, gt=0)
    aws_read_timeout_s: float = _s("boto3 read timeout.", default=20.0, gt=0)
    aws_max_attempts: int = _s(
        "Requests per AWS call, the first included (adaptive retry mode; 1 = never retry).",
        default=8,
        ge=1,
        le=20,
    )

    # --- the pipeline -----------------------------------------------------
    raw_bucket: str = _s("Bucket users upload into.", default="smd-raw")
    processed_bucket: str = _s("Bucket Glue jobs write to.", default="smd-processed")
    athena_results_bucket: str = _s(
        "Bucket for Athena query results.", default="smd-athena-results"
    )
    kms_key_id: str | None = _s(
        "KMS key (id, ARN or alias) for SSE-KMS on uploads; default: the bucket's.", default=None
    )
    datasets: Annotated[tuple[Dataset, ...], NoDecode] = _s(
        "Datasets as JSON (or @file): [{name, prefix, glue_job, bucket?, expected_columns?, ...}]."
        " Required: the dashboard has no datasets of its own (`make demo` sets the sandbox's).",
        default=(),
    )
    events_queue: str = _s(
        "SQS queue (name or URL) EventBridge feeds with S3 and Glue events.",
        default="smd-collector-events",
    )
    upload_max_bytes: int = _s(
        "Largest file a user may upload, in bytes (S3 allows 5 TiB; the default is 5 GiB).",
        default=5 * 1024**3,
        ge=1,
        le=5 * 1024**4,
    )
    trigger_mode: Literal["eventbridge", "direct"] = _s(
        "eventbridge: the upload event starts the job; direct: the web app starts it.",
        default="eventbridge",
    )
    glue_log_group_prefix: str = _s("Glue log groups prefix.", default="/aws-glue/jobs")
    ingestion_metric_namespace: str = _s(
        "CloudWatch namespace of our own rows-written metric.", default="SMD/Ingestion"
    )
    dpu_hour_price: float = _s("Price of one DPU-hour in USD (cost per run).", default=0.44, ge=0)
    athena_workgroup: str = _s("Athena workgroup for queries.", default="primary")
    athena_database: str = _s(
        "Glue Data Catalog database Athena queries by default.", default="processed"
    )
    athena_tb_price: float = _s(
        "Athena's price per TB scanned in USD (billed per query: rounded up to the MB, 10 MB"
        " at least).",
        default=5.0,
        ge=0,
    )

    # --- web --------------------------------------------------------------
    host: str = _s("Address the web server binds.", default="127.0.0.1")
    port: int = _s("Port the web server binds.", default=8050, ge=1, le=65535)
    auth_mode: Literal["none", "oidc", "proxy"] = _s(
        "none: one local user with SMD_LOCAL_ROLE, served on loopback only; oidc: users sign in "
        "with an OIDC provider (SMD_AUTH_OIDC_*); proxy: oauth2-proxy or an AWS ALB signs them "
        "in (SMD_TRUSTED_PROXIES). Roles come from SMD_AUTH_ROLE_MAP.",
        default="none",
    )
    local_role: Literal["viewer", "operator", "admin"] = _s(
        "Role of the local user in auth mode none (viewer: a read-only wall screen).",
        default="admin",
    )
    public_url: str | None = _s(
        "The dashboard's address as browsers reach it (https://dash.example.com): the sign-in "
        "redirect and the one Origin a POST may come from. Default: the request's own host.",
        default=None,
    )
    auth_oidc_discovery_url: str | None = _s(
        "OIDC discovery document of the provider (…/.well-known/openid-configuration).",
        default=None,
    )
    auth_oidc_client_id: str | None = _s(
        "OIDC client id registered for the dashboard.", default=None
    )
    auth_oidc_client_secret: SecretStr | None = _s(
        "OIDC client secret; leave unset for a public client (PKCE alone).", default=None
    )
    auth_oidc_scopes: str = _s("Scopes asked at sign-in.", default="openid email profile")
    auth_logout: Literal["auto", "cognito", "auth0", "oidc", "local"] = _s(
        "How sign-out ends the provider's session: auto picks Cognito's /logout or Auth0's "
        "/v2/logout by issuer, else end_session_endpoint; local ends only ours.",
        default="auto",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = _s(
        "Addresses or CIDRs (comma-separated) of the proxy or ALB whose identity headers are "
        "believed in auth mode proxy; from anywhere else they are ignored.",
        default=(),
    )
    auth_alb_signer_arns: Annotated[tuple[str, ...], NoDecode] = _s(
        "ARNs (comma-separated) of the ALBs whose signed x-amzn-oidc-data is accepted; empty: "
        "oauth2-proxy's X-Forwarded-User/-Email/-Groups headers.",
        default=(),
    )
    auth_alb_issuer: str | None = _s("Issuer an ALB's tokens must name.", default=None)
    auth_alb_client_id: str | None = _s("OIDC client id an ALB's tokens must name.", default=None)
    auth_proxy_logout_url: str | None = _s(
        "Where sign-out sends the browser in auth mode proxy (oauth2-proxy's /oauth2/sign_out, "
        "the IdP's logout behind an ALB).",
        default=None,
    )
    auth_role_claim: str = _s(
        "Claim holding the user's groups, e.g. cognito:groups or a namespaced Auth0 claim "
        "(https://example.com/roles); a dotted path (realm_access.roles) reaches nested claims.",
        default="groups",
    )
    auth_role_map: Annotated[
        dict[Literal["viewer", "operator", "admin"], tuple[str, ...]], NoDecode
    ] = _s(
        'Role → groups as JSON, e.g. {"admin": ["platform"], "viewer": ["staff"]}; a user in '
        "several gets the highest. Re-read at every sign-in.",
        default_factory=dict,
    )
    auth_default_role: Literal["deny", "viewer", "operator", "admin"] = _s(
        "Role of a signed-in user no group maps; deny refuses them.", default="deny"
    )
    auth_session_idle_s: int = _s("A session unused this long ends (seconds).", default=1800, ge=60)
    auth_session_max_s: int = _s(
        "A session ends this long after sign-in, however busy (seconds).", default=43200, ge=300
    )
    auth_device_session_max_s: int = _s(
        "An enrolled wall screen's session lasts this long (seconds; default 90 days).",
        default=90 * 86400,
        ge=3600,
    )
    auth_device_idle_s: int = _s(
        "A wall screen switched off this long must be enrolled again (seconds).",
        default=7 * 86400,
        ge=600,
    )
    auth_signin_limit: int = _s(
        "Sign-in attempts one address may make per SMD_AUTH_SIGNIN_WINDOW_S (all workers).",
        default=20,
        ge=1,
    )
    auth_signin_window_s: int = _s("The sign-in rate limit's window.", default=300, ge=1)
    secret_key: SecretStr = _s(
        "Flask session secret (sign the session cookie); set it in every deployment.",
        default=SecretStr("dev-only-not-secret"),
    )
    refresh_interval_s: int = _s("How often pages re-read the database.", default=5, ge=1, le=3600)
    shared_answer_s: float = _s(
        "Viewers asking a refresh this close (s) share one answer (0: off)", default=1, ge=0, le=60
    )
    stale_after_s: int = _s(
        "Collectors are stale (readyz 503, banner) when older than this.", default=180, ge=5
    )
    currency: str = _s("Currency label shown with costs (see SMD_DPU_HOUR_PRICE).", default="USD")

    # --- collectors ---------------------------------------------------------
    collect_inventory_interval_s: int = _s(
        "How often Glue jobs, Lambda functions and their tags are listed.", default=300, ge=5
    )
    collect_glue_runs_interval_s: int = _s(
        "How often job runs are reconciled with GetJobRuns (events bring changes sooner).",
        default=15,
        ge=1,
    )
    glue_full_reconcile_every: int = _s(
        "Each job is read at least every N reconciliations (1/N of the jobs a cycle), "
        "besides jobs with active runs and jobs whose last read failed.",
        default=4,
        ge=1,
    )
    collect_events_wait_s: int = _s(
        "How long one event-consumer cycle long-polls SQS before it reports status.",
        default=10,
        ge=1,
        le=60,
    )
    collect_metrics_interval_s: int = _s("How often CloudWatch metrics are read.", default=60, ge=5)
    metrics_reread_s: int = _s(
        "Re-read this much of the recent past each cycle, so late datapoints land.",
        default=600,
        ge=0,
    )
    metrics_backfill_s: int = _s(
        "On first start (or after a gap), read metrics this far back.", default=3 * 3600, ge=60
    )
    collect_logs_interval_s: int = _s(
        "How often finished runs' and Lambda functions' logs are read.", default=30, ge=1
    )
    collect_log_follow_interval_s: float = _s(
        "How often the log streams of running jobs are polled.", default=1.0, gt=0
    )
    log_follow_max_calls_per_s: float = _s(
        "GetLogEvents calls per second the log follower may spend (the account quota is 25).",
        default=15.0,
        gt=0,
    )
    logs_backfill_s: int = _s(
        "Logs of runs and functions this recent are read on first start.", default=24 * 3600, ge=0
    )
    logs_streams_per_cycle: int = _s(
        "At most this many run-backlog and Lambda streams are read per logs cycle (GetLogEvents "
        "quota); the others are read in the next cycles, oldest first.",
        default=200,
        ge=1,
    )
    collect_athena_interval_s: float = _s(
        "How often unfinished Athena queries are followed (one BatchGet per 50).",
        default=1.0,
        gt=0,
    )
    collect_catalog_interval_s: int = _s(
        "How often the Glue Data Catalog (the Athena schema browser) is re-read.",
        default=300,
        ge=10,
    )
    collect_retention_interval_s: int = _s("How often old data is pruned.", default=3600, ge=60)
    retry_policies: Annotated[dict[str, RetryPolicy], NoDecode] = _s(
        "Auto-retry per job as JSON: {job name or glob: {attempts, backoff_s, backoff_factor, "
        "transient_patterns?, retry_timeouts?}}; the first matching key wins; {} retries nothing.",
        default_factory=dict,
    )
    collect_retries_interval_s: int = _s(
        "How often failed runs are checked for an automatic re-run.", default=30, ge=5
    )

    # --- retention --------------------------------------------------------
    retention_runs_days: int = _s("Keep job runs this long (Glue keeps 90).", default=400, ge=1)
    retention_metrics_days: int = _s("Keep metric points this long.", default=35, ge=1)
    retention_logs_days: int = _s("Keep log events this long.", default=30, ge=1)

    # --- sandbox ----------------------------------------------------------
    sandbox_port: int = _s("Port of the local AWS sandbox.", default=5000, ge=0, le=65535)
    sandbox_history_days: float = _s("Days of history the sandbox seeds.", default=14, ge=0, le=60)
    sandbox_seed: int = _s("Random seed of the sandbox data.", default=42)

    @field_validator("datasets", mode="before")
    @classmethod
    def _parse_datasets(cls, v: Any) -> Any:
        if isinstance(v, str):
            text = v.strip()
            if not text:
                return ()
            if text.startswith("@"):
                try:
                    text = Path(text[1:]).read_text(encoding="utf-8")
                except OSError as e:
                    raise ValueError(f"cannot read {text[1:]!r} ({e.strerror})") from None
            return loads_setting(text)
        return v

    @field_validator("retry_policies", mode="before")
    @classmethod
    def _parse_retry_policies(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = loads_setting(v.strip() or "{}")
            if not isinstance(v, dict):
                raise ValueError("must be a JSON object: {job name or glob: policy}")
        return v

    def retry_policy(self, job_name: str) -> RetryPolicy | None:
        """The auto-retry policy of a job: the first key equal to it or matching it as a glob."""
        if job_name in self.retry_policies:
            return self.retry_policies[job_name]
        for pattern, policy in self.retry_policies.items():
            if fnmatch.fnmatchcase(job_name, pattern):
                return policy
        return None

    @field_validator("auth_role_map", mode="before")
    @classmethod
    def _parse_role_map(cls, v: Any) -> Any:
        return auth_config.parse_role_map(v)

    @field_validator("trusted_proxies", "auth_alb_signer_arns", mode="before")
    @classmethod
    def _parse_lists(cls, v: Any) -> Any:
        return auth_config.parse_list(v)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return auth_config.check_networks(v)

    @field_validator("auth_alb_signer_arns")
    @classmethod
    def _alb_arns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return auth_config.check_alb_arns(v)

    @field_validator("public_url", "auth_oidc_discovery_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL")
        return v.rstrip("/") if not v.endswith("openid-configuration") else v

    @field_validator("raw_bucket", "processed_bucket", "athena_results_bucket")
    @classmethod
    def _bucket_name(cls, v: str) -> str:
        if not _BUCKET_RE.match(v):
            raise ValueError(f"'{v}' is not a valid S3 bucket name")
        return v

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(v)
        except ArgumentError as e:
            raise ValueError(f"not a SQLAlchemy URL: {e}") from e
        return v

    @field_validator("aws_endpoint_url")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if not self.datasets:
            raise ValueError(
                "datasets: SMD_DATASETS is not set; list the datasets users upload into as JSON "
                "(see the README), or run `make demo` for the sandbox's"
            )
        names = [d.name for d in self.datasets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"datasets: duplicate dataset name {dupes[0]!r}")
        if self.auth_mode == "none" and not is_loopback(self.host):
            raise ValueError(
                f"host: auth mode 'none' has no sign-in, so it binds only a loopback address "
                f"(127.0.0.1, ::1, localhost), not {self.host!r}"
            )
        auth_config.check_modes(self, env_name)
        return self

    @cached_property
    def datasets_by_name(self) -> dict[str, Dataset]:
        return {d.name: d for d in self.datasets}

    def dataset_bucket(self, dataset: Dataset) -> str:
        return dataset.bucket or self.raw_bucket

    def redacted(self) -> dict[str, Any]:
        """The configuration as JSON-ready data with secrets hidden (for `config --json`)."""
        data = self.model_dump(mode="json")
        for name, field in type(self).model_fields.items():
            if field.annotation is SecretStr or "secret" in name:
                data[name] = "**********"
        data["database_url"] = _redact_url(self.database_url)
        return data


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return u.render_as_string(hide_password=True) if u.password else url


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def env_name(field: str) -> str:
    """The environment variable a setting is read from (the first alias, else SMD_<NAME>)."""
    info = Settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"SMD_{field.upper()}"


def _field_for(name: str) -> str | None:
    if name in Settings.model_fields:
        return name
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices) and name in alias.choices:
            return field
    return None


def describe_error(err: ValidationError) -> str:
    """One line naming the setting, its variable and what is wrong with it."""
    first = err.errors()[0]
    loc = [str(p) for p in first.get("loc", ())]
    msg = first.get("msg", "invalid").removeprefix("Value error, ")
    field = _field_for(loc[0]) if loc else None
    if field is None:
        # Cross-field checks name their setting as "field: message".
        head, sep, rest = msg.partition(": ")
        if sep and _field_for(head):
            field, msg, loc = _field_for(head), rest, [head]
    if field is None:
        return f"configuration error: {msg}"
    where = env_name(field) + "".join(f"[{p}]" for p in loc[1:])
    value = first.get("input")
    shown = ""
    if field != "secret_key" and isinstance(value, str | int | float) and str(value) not in msg:
        shown = f" (got {value!r})"
    return f"configuration error: {where}: {msg}{shown}"


def load_settings(**overrides: Any) -> Settings:
    """Read settings; raise ConfigError with a one-line message when they are invalid."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        raise ConfigError(describe_error(e)) from None
