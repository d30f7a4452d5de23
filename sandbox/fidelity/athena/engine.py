"""Run a planned query in DuckDB over the objects its tables hold.

Why the objects are copied to a temporary directory instead of read through
DuckDB's httpfs from the sandbox's S3 endpoint: under ``mock_aws`` there is no
endpoint at all, in the server the fault injector would throttle Athena's own
reads, and the bucket is SSE-KMS (moto keeps plaintext, but a signed request
would still be needed).  Reading moto's backend works offline in both places
and needs no DuckDB extension.  Only the partitions that survive pruning are
copied, and their sizes are what ``DataScannedInBytes`` reports -- Athena
bills JSON by the bytes of the objects it opens.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from .catalog import CatalogTable, Partition, list_partitions, read_object
from .errors import AthenaQueryError, from_duckdb
from .planner import Plan
from .resultfile import ResultFile
from .types import athena_column, glue_to_duckdb, render

__all__ = ["Outcome", "execute"]

_FETCH = 10_000
_ZONED = "TIMESTAMP WITH TIME ZONE"


@dataclass
class Outcome:
    result: ResultFile
    scanned_bytes: int


def _zoned_as_text(
    con: duckdb.DuckDBPyConnection, plan: Plan, types: list[str], origins: dict[str, str]
) -> duckdb.DuckDBPyConnection:
    """Re-run with zoned timestamps printed by DuckDB in UTC, as Athena prints them.

    (Fetching them as Python objects would need pytz, which the sandbox does not carry.)
    """
    columns = ", ".join(
        f"strftime(#{i}, '%Y-%m-%d %H:%M:%S.%g UTC')" if t == _ZONED else f"#{i}"
        for i, t in enumerate(types, start=1)
    )
    try:
        return con.execute(f"SELECT {columns} FROM ({plan.duckdb_sql}) AS __result")
    except duckdb.Error as exc:
        raise from_duckdb(exc, plan.original, origins) from None


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _selected(
    con: duckdb.DuckDBPyConnection,
    table: CatalogTable,
    parts: list[Partition],
    predicate: str | None,
) -> list[int]:
    """Indexes of ``parts`` that ``predicate`` (over partition keys) keeps."""
    if not predicate or not table.partition_keys:
        return list(range(len(parts)))
    keys = ", ".join(f"{_ident(k)} {glue_to_duckdb(t)}" for k, t in table.partition_keys)
    con.execute(f"CREATE OR REPLACE TEMP TABLE __partitions (__idx INTEGER, {keys})")
    rows = []
    for i, part in enumerate(parts):
        casts = ", ".join(
            f"TRY_CAST({_literal(v)} AS {glue_to_duckdb(t)})"
            for v, (_, t) in zip(part.values, table.partition_keys, strict=True)
        )
        rows.append(f"({i}, {casts})")
    if rows:
        con.execute("INSERT INTO __partitions VALUES " + ", ".join(rows))
    try:
        return [
            r[0]
            for r in con.execute(f"SELECT __idx FROM __partitions WHERE {predicate}").fetchall()
        ]
    except duckdb.Error:
        return list(range(len(parts)))  # the query itself will report the problem


def _view_sql(table: CatalogTable, parts: list[Partition], files: dict[str, list[str]]) -> str:
    columns = (
        "{"
        + ", ".join(f"{_literal(n)}: {_literal(glue_to_duckdb(t))}" for n, t in table.columns)
        + "}"
    )
    names = [n for n, _ in table.columns]
    selects = []
    for part in parts:
        paths = files.get(repr(part.values))
        if not paths:
            continue
        keys = [
            f"CAST({_literal(v)} AS {glue_to_duckdb(t)}) AS {_ident(k)}"
            for v, (k, t) in zip(part.values, table.partition_keys, strict=True)
        ]
        listing = "[" + ", ".join(_literal(p) for p in paths) + "]"
        projection = ", ".join([*(_ident(n) for n in names), *keys])
        selects.append(
            f"SELECT {projection} FROM read_json({listing}, format='newline_delimited', "
            f"columns={columns})"
        )
    if selects:
        return " UNION ALL ".join(selects)
    empty = [
        f"CAST(NULL AS {glue_to_duckdb(t)}) AS {_ident(n)}"
        for n, t in (*table.columns, *table.partition_keys)
    ]
    return f"SELECT {', '.join(empty)} WHERE false"


def execute(
    plan: Plan,
    *,
    on_connection: Callable[[duckdb.DuckDBPyConnection], None],
    cancelled: threading.Event,
) -> Outcome:
    """Run ``plan``; raise AthenaQueryError with Athena's wording if it fails.

    ``on_connection`` receives the DuckDB connection before any work starts, so
    StopQueryExecution can interrupt it; ``cancelled`` is checked between batches.
    """
    con = duckdb.connect(":memory:", config={"threads": 2})
    con.execute("SET TimeZone = 'UTC'")  # zoned timestamps print in UTC, as in Athena
    on_connection(con)
    origins: dict[str, str] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="sandbox-athena-scan-") as scratch:
            scanned = _prepare(con, plan, scratch, origins, cancelled)
            try:
                cursor = con.execute(plan.duckdb_sql)
            except duckdb.Error as exc:
                raise from_duckdb(exc, plan.original, origins) from None
            description = cursor.description or []
            types = [str(d[1]) for d in description]
            if _ZONED in types:
                cursor = _zoned_as_text(con, plan, types, origins)
            result = ResultFile(
                [athena_column(d[0], t) for d, t in zip(description, types, strict=True)]
            )
            result.append([[d[0] for d in description]])
            try:
                while not cancelled.is_set():
                    batch = cursor.fetchmany(_FETCH)
                    if not batch:
                        break
                    result.append(
                        [render(v, t) for v, t in zip(row, types, strict=True)] for row in batch
                    )
            except duckdb.Error as exc:
                result.close()
                raise from_duckdb(exc, plan.original, origins) from None
            return Outcome(result=result, scanned_bytes=scanned)
    finally:
        con.close()


def _prepare(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    scratch: str,
    origins: dict[str, str],
    cancelled: threading.Event,
) -> int:
    """Copy the pruned objects, create one view per table; return the bytes scanned."""
    partitions = {key: list_partitions(table) for key, table in plan.tables.items()}
    wanted: dict[tuple[str, str], set[int]] = {key: set() for key in plan.tables}
    scanned = 0
    for scan in plan.scans:
        key = (scan.table.database, scan.table.name)
        keep = _selected(con, scan.table, partitions[key], scan.prune)
        wanted[key].update(keep)
        scanned += sum(partitions[key][i].size for i in keep)
    for n, (key, table) in enumerate(plan.tables.items()):
        parts = [partitions[key][i] for i in sorted(wanted[key])]
        files: dict[str, list[str]] = {}
        for m, part in enumerate(parts):
            for k, obj in enumerate(part.objects):
                if cancelled.is_set():
                    raise AthenaQueryError("Query was cancelled")
                path = os.path.join(scratch, f"t{n}-p{m}-o{k}.json")
                with open(path, "wb") as out:
                    out.write(read_object(table, obj))
                origins[path] = obj.uri
                files.setdefault(repr(part.values), []).append(path)
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(table.database)}")
        con.execute(
            f"CREATE OR REPLACE VIEW {_ident(table.database)}.{_ident(table.name)} AS "
            + _view_sql(table, parts, files)
        )
    return scanned
