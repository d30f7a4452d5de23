"""The sandbox fidelity layer: moto plus the AWS behaviour it lacks.

The dashboard talks to the sandbox only through plain boto3, so wherever moto
differs from AWS in a way the product depends on, the sandbox patches moto
in-process.  :func:`apply_fidelity` installs every patch; it is idempotent and
works both under ``moto.mock_aws()`` and in the sandbox server process.  Each
patch has a test (``tests/sandbox/test_fidelity_*.py``) that states the AWS
behaviour it restores and fails against plain moto.

================  ======================================  ==========================================
module            moto 5.2.5 does                         AWS behaviour restored
================  ======================================  ==========================================
``glue``,         runs advance STARTING -> RUNNING ->     runs move only through ``transition()``
``glue_api``      SUCCEEDED when read, never fail; no     (legal moves only); real JobRun shape:
                  ErrorMessage / DPUSeconds;              CompletedOn and DPUSeconds once finished,
                  ExecutionTime 123; CompletedOn on       ErrorMessage when failed, LogGroupName
                  running runs; GetJobRuns oldest         /aws-glue/jobs; GetJobRuns newest first,
                  first; no BatchStopJobRun;              MaxResults <= 200 + NextToken;
                  MaxConcurrentRuns ignores STOPPING      BatchStopJobRun (-> STOPPING); STARTING,
                                                          RUNNING, STOPPING count as concurrent
``cloudwatch``    every sample a Python object, a         numpy MetricStore per account/region;
                  linear scan per query (68 s for 500     exact series match (namespace, name,
                  queries); namespace ignored with        dimension set), Unit filter,
                  dimensions; percentiles -> HTTP 500;    epoch-aligned Period buckets, pNN / pNN.N
                  ExtendedStatistics ignored;             from raw samples, ScanBy, MaxDatapoints +
                  GetMetricData never pages               NextToken paging, <= 500 queries,
                                                          ExtendedStatistics, ListMetrics 500 a
                                                          page; fast (see bench/sandbox_metrics.py)
``lambda_``       ListFunctions ignores MaxItems and      at most 50 functions a page, NextMarker
                  Marker
``s3_events``     one fixed event id; numeric time;       uuid id, ISO 8601 time, reason PutObject /
                  reason "ObjectCreated"; fixed           PostObject / CopyObject /
                  sequencer and request-id; ``eTag``;     CompleteMultipartUpload, ``etag``,
                  two Object Created events per           increasing sequencer, random request-id;
                  multipart upload; "Object Tags          one Object Created event per creation;
                  Added" on every creation; one           ENABLED rules of the default bus only,
                  unsupported target drops the rest       every target isolated
``s3_checksums``  UploadPart ignores x-amz-checksum-*     a part is verified against its checksum
                  (corrupt parts stored); ListParts       (BadDigest) and kept; a declared algorithm
                  has no part checksums; completion       needs it on every part; ListParts returns
                  ignores them and re-reads every part;   it; completion checks the parts' checksums
                  presigned requests may add unsigned     and builds the COMPOSITE one from them;
                  x-amz-* headers                         unsigned x-amz-* headers on a presigned
                                                          PUT are 403 AccessDenied
``faults``,       never throttles, fails or keeps a       planned throttling / 5xx in the request's
``client_``       caller waiting                          own protocol, slow answers and silent
``faults``                                                timeouts: WSGI middleware (server,
                                                          ``/_sandbox/faults``) or a ``before-send``
                                                          hook (in-process)
``athena``        runs no SQL: injected rows go to        the SQL runs (sqlglot Trino->DuckDB) over
                  whichever query reads next;             the Glue tables' S3 objects; QUEUED ->
                  SUCCEEDED on first read, never          RUNNING -> SUCCEEDED/FAILED in a worker,
                  FAILED; MaxResults / NextToken          Athena's error text and AthenaError;
                  ignored; headerless unquoted CSV;       DataScannedInBytes = object sizes after
                  0 bytes scanned; Stop cancels           partition pruning; <= 1,000-row pages
                  finished queries; unknown id ->         (header first) with NextToken; RFC 4180
                  HTTP 500; no BatchGetQueryExecution;    CSV at OutputLocation = the pages; Stop
                  ClientRequestToken ignored              cancels only unfinished queries;
                                                          BatchGetQueryExecution (50, unknown ids
                                                          unprocessed); ClientRequestToken makes
                                                          the start idempotent; knobs at
                                                          ``/_sandbox/athena``
================  ======================================  ==========================================
"""

from __future__ import annotations

import threading

from . import athena, cloudwatch, glue_api, lambda_, s3_checksums, s3_events

__all__ = ["applied_patches", "apply_fidelity"]

_PATCHES = (
    ("glue", glue_api.apply),
    ("cloudwatch", cloudwatch.apply),
    ("lambda", lambda_.apply),
    ("s3_events", s3_events.apply),
    ("s3_checksums", s3_checksums.apply),
    ("athena", athena.apply),
)
_lock = threading.Lock()
_applied: list[str] = []


def apply_fidelity() -> None:
    """Install every fidelity patch into moto (safe to call any number of times).

    Call it before serving requests (``SandboxServer`` does) or at the start of
    an in-process ``mock_aws`` test.  Each patch also guards itself, so calling
    it again, from any thread, changes nothing.
    """
    with _lock:
        for name, apply in _PATCHES:
            apply()
            if name not in _applied:
                _applied.append(name)


def applied_patches() -> list[str]:
    """Names of the patches installed in this process (for health checks)."""
    return list(_applied)
