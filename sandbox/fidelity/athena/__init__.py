"""Athena fidelity: queries that really run, over the objects the Data Catalog points at.

Why: moto runs no SQL.  It hands injected rows to whichever query asks next,
reports SUCCEEDED on the first read and never FAILED, ignores MaxResults and
NextToken, writes a CSV without header or quoting and reports 0 bytes
scanned.  The dashboard's Athena workbench (issue 10) is built on exactly the
things moto fakes: the lifecycle it polls, the error it shows, the bytes it
prices, the pages it streams and the CSV it exports.

Parts, one job each:

================  ==================================================================
``lifecycle``     the execution record and its legal moves (QUEUED -> RUNNING -> ...)
``runner``        worker threads, the knobs (queue time, minimum run time, slots, clock)
``planner``       sqlglot: Trino SQL -> DuckDB SQL, tables read, partition predicates
``catalog``       Glue tables, their partitions and objects in moto's backends
``engine``        DuckDB over the pruned objects; bytes scanned
``types``         Glue/DuckDB/Athena types and Athena's text for values
``resultfile``    the result CSV on disk with row offsets (pages = the CSV)
``output``        OutputLocation and writing the CSV to S3
``errors``        Athena's wording and AthenaError codes for engine failures
``read_faults``   BatchGetQueryExecution failing to read chosen ids for a while
``api``           the moto operations, and :func:`apply`
``control``       the ``/_sandbox/athena`` knobs route
================  ==================================================================
"""

from __future__ import annotations

from .api import apply
from .runner import KNOBS, Knobs

__all__ = ["KNOBS", "Knobs", "apply"]
