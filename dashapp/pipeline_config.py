"""What one dataset and one job's automatic retries look like in the configuration.

Kept beside `dashapp.config` (which re-exports both) so the settings module stays a list
of settings; these are the nested shapes SMD_DATASETS and SMD_RETRY_POLICIES are made of.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_GLUE_JOB_RE = re.compile(r"^[\w .:/@+=-]{1,255}$")


class Dataset(BaseModel):
    """A dataset users upload into: raw bucket/prefix and the Glue job that ingests it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Short id shown to users and used in URLs.")
    title: str = Field("", description="Human name; defaults to the id.")
    description: str = ""
    bucket: str | None = Field(None, description="Raw bucket; defaults to SMD_RAW_BUCKET.")
    prefix: str = Field(description="Key prefix under the raw bucket, e.g. 'sales/orders/'.")
    glue_job: str = Field(description="Glue job the upload event starts.")
    formats: tuple[Literal["csv", "json", "ndjson"], ...] = ("csv", "json", "ndjson")
    expected_columns: tuple[str, ...] = ()
    expected_interval_s: int | None = Field(
        None, gt=0, description="Freshness SLA: late when no success within this many seconds."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError("dataset name must be lowercase letters, digits, '-' or '_'")
        return v

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, v: str | None) -> str | None:
        if v is not None and not _BUCKET_RE.match(v):
            raise ValueError(f"'{v}' is not a valid S3 bucket name")
        return v

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        v = v.strip("/")
        if not v or ".." in v.split("/") or v.startswith(" "):
            raise ValueError("prefix must be a non-empty key prefix without '..'")
        return v + "/"

    @field_validator("glue_job")
    @classmethod
    def _glue_job(cls, v: str) -> str:
        if not _GLUE_JOB_RE.match(v):
            raise ValueError(f"'{v}' is not a valid Glue job name")
        return v

    @property
    def label(self) -> str:
        return self.title or self.name


DEFAULT_TRANSIENT_PATTERNS: tuple[str, ...] = (
    r"(?i)throttl",
    r"(?i)rate exceeded",
    r"ConcurrentRunsExceededException",
    r"ResourceNumberLimitExceeded",
    r"(?i)connection reset",
    r"(?i)timed? ?out",
    r"(?i)failed to connect",
    r"(?i)service ?unavailable",
    r"(?i)internal ?(server )?error",
)


class RetryPolicy(BaseModel):
    """Automatic re-runs of a job's transient failures (ours, on top of Glue's MaxRetries)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: int = Field(2, ge=0, le=10, description="Re-runs after the first failure.")
    backoff_s: float = Field(60.0, ge=0, description="Wait before the first re-run.")
    backoff_factor: float = Field(2.0, ge=1, le=10, description="Each later wait grows by this.")
    transient_patterns: tuple[str, ...] = Field(
        DEFAULT_TRANSIENT_PATTERNS, description="Regexes on ErrorMessage that mean 'try again'."
    )
    retry_timeouts: bool = Field(True, description="A TIMEOUT run counts as transient.")

    @field_validator("transient_patterns")
    @classmethod
    def _patterns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in v:
            try:
                re.compile(pattern)
            except (re.error, OverflowError) as e:  # OverflowError: a{4294967296}
                raise ValueError(f"transient pattern {pattern!r} is not a regex: {e}") from e

        return v
