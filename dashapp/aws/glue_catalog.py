"""The Glue Data Catalog that Athena queries: databases, tables, columns and partition keys.

The collector copies it into PostgreSQL (`catalog_tables`), so the Athena page's
schema browser opens at once and never waits on GetTables while rendering.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any


def iter_databases(client: Any) -> Iterator[str]:
    for page in client.get_paginator("get_databases").paginate():
        for db in page.get("DatabaseList", []):
            yield str(db["Name"])


def iter_tables(client: Any, database: str) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("get_tables").paginate(DatabaseName=database):
        yield from page.get("TableList", [])


def _columns(raw: Any) -> list[dict[str, str]]:
    return [
        {"name": str(c["Name"]), "type": str(c.get("Type") or "string")}
        for c in raw or []
        if c.get("Name")
    ]


def parse_table(database: str, raw: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A `catalog_tables` row from a GetTables entry: columns in order, then partition keys."""
    storage = raw.get("StorageDescriptor") or {}
    return {
        "database": database,
        "name": str(raw["Name"]),
        "table_type": raw.get("TableType"),
        "location": storage.get("Location"),
        "columns": _columns(storage.get("Columns")),
        "partition_keys": _columns(raw.get("PartitionKeys")),
        "updated_at": raw.get("UpdateTime"),
        "seen_at": now,
    }
