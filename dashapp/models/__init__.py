"""The data model: what the collector observed in AWS and what users did.

One schema for PostgreSQL (production) and SQLite (the sandbox), in modules by
subject; everything is importable from here (`from dashapp.models import JobRun`), and
importing this package registers every table on `Base.metadata` (what Alembic compares).
"""

from dashapp.models.access import (
    AccessToken,
    AuthSession,
    SigninAttempt,
    SigninThrottle,
)
from dashapp.models.athena import (
    AthenaQuery,
    AthenaResultToken,
    CatalogTable,
    SavedQuery,
)
from dashapp.models.base import (
    NAMING,
    Base,
    BigId,
    JSONType,
    UTCDateTime,
)
from dashapp.models.pipeline import (
    FIRST_FULL_SYNC_KEY,
    GLUE_RUNS_HISTORY_CURSOR,
    AuditEntry,
    CollectorCursor,
    CollectorStatus,
    GlueJob,
    JobAction,
    JobRun,
    LambdaFunction,
    LogEvent,
    LogStream,
    LogWatch,
    MetricPoint,
    Upload,
)

__all__ = [
    "FIRST_FULL_SYNC_KEY",
    "GLUE_RUNS_HISTORY_CURSOR",
    "NAMING",
    "AccessToken",
    "AthenaQuery",
    "AthenaResultToken",
    "AuditEntry",
    "AuthSession",
    "Base",
    "BigId",
    "CatalogTable",
    "CollectorCursor",
    "CollectorStatus",
    "GlueJob",
    "JSONType",
    "JobAction",
    "JobRun",
    "LambdaFunction",
    "LogEvent",
    "LogStream",
    "LogWatch",
    "MetricPoint",
    "SavedQuery",
    "SigninAttempt",
    "SigninThrottle",
    "UTCDateTime",
    "Upload",
]
