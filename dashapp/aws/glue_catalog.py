"""The Glue Data Catalog that Athena queries: databases, tables, columns and partition keys.

The collector copies it into PostgreSQL (`catalog_tables`), so the Athena page's
schema browser opens at once and never waits on GetTables while rendering.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from dashapp.aws import shape


def iter_databases(client: Any) -> Iterator[str]:
    for page in client.get_paginator("get_databases").paginate():
        for db in page.get("DatabaseList", []):
            yield str(db["Name"])


def iter_tables(client: Any, database: str) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("get_tables").paginate(DatabaseName=database):
        yield from page.get("TableList", [])


def _columns(raw: Any, key: str) -> list[dict[str, str]]:
    columns = []
    for c in shape.items(raw, key):
        name = shape.optional_text(c, "Name")
        if name:
            columns.append({"name": name, "type": shape.optional_text(c, "Type") or "string"})
    return columns


@shape.parser("Glue catalog table")
def parse_table(database: str, raw: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A `catalog_tables` row from a GetTables entry: columns in order, then partition keys."""
    storage = shape.mapping(raw, "StorageDescriptor")
    return {
        "database": database,
        "name": shape.text(raw, "Name", 255),
        "table_type": shape.optional_text(raw, "TableType", 64),
        "location": shape.optional_text(storage, "Location", 2048),
        "columns": _columns(storage, "Columns"),
        "partition_keys": _columns(raw, "PartitionKeys"),
        "updated_at": shape.optional_time(raw, "UpdateTime"),
        "seen_at": now,
    }
