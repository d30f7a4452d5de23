"""What Athena reads: Glue Data Catalog tables, their partitions, and the S3 objects under them.

Why in-process: the query worker runs inside the sandbox (or a ``mock_aws``
test), so it reads moto's Glue and S3 backends directly.  That works offline,
under ``mock_aws`` (where no HTTP endpoint exists for DuckDB's httpfs to call)
and without the fault injector throttling Athena's own reads.

Partitions follow Athena's rules: a partitioned table is read only through its
registered partitions (``BatchCreatePartition``) or, when the table enables
partition projection (``projection.enabled``), through the ``key=value``
prefixes that exist under its location.  A partitioned table with neither
returns no rows, exactly as Athena does.  Files whose name starts with ``_`` or
``.`` are skipped, as Athena skips them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.glue.models import glue_backends
from moto.s3.models import FakeKey, s3_backends
from moto.utilities.utils import get_partition

__all__ = [
    "CatalogTable",
    "LookupFailure",
    "Partition",
    "S3Object",
    "list_partitions",
    "read_object",
    "resolve_table",
]


class LookupFailure(Exception):
    """A schema or table the query names is not in the Data Catalog."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} {name} does not exist")
        self.kind = kind  # "schema" | "table"
        self.name = name


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class Partition:
    """One partition's values (in partition-key order) and the objects it holds."""

    values: tuple[str, ...]
    objects: tuple[S3Object, ...]

    @property
    def size(self) -> int:
        return sum(o.size for o in self.objects)


@dataclass(frozen=True)
class CatalogTable:
    database: str
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, Glue type)
    partition_keys: tuple[tuple[str, str], ...]
    location: str
    parameters: dict[str, str]
    account_id: str
    region: str

    @property
    def projected(self) -> bool:
        return self.parameters.get("projection.enabled", "").lower() == "true"


def _split_s3(uri: str) -> tuple[str, str]:
    rest = uri.split("://", 1)[1] if "://" in uri else uri
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix


def resolve_table(account_id: str, region: str, database: str, name: str) -> CatalogTable:
    """The Glue table ``database.name`` (names compare case-insensitively, as in Athena)."""
    backend = glue_backends[account_id][region]
    databases = {d.lower(): d for d in backend.databases}
    db_name = databases.get(database.lower())
    if db_name is None:
        raise LookupFailure("schema", database)
    tables = backend.databases[db_name].tables
    by_lower = {t.lower(): t for t in tables}
    table_name = by_lower.get(name.lower())
    if table_name is None:
        raise LookupFailure("table", f"{database}.{name}")
    info = tables[table_name].as_dict()
    storage = info.get("StorageDescriptor") or {}
    return CatalogTable(
        database=db_name.lower(),
        name=table_name.lower(),
        columns=tuple((c["Name"].lower(), c["Type"]) for c in storage.get("Columns", [])),
        partition_keys=tuple((k["Name"].lower(), k["Type"]) for k in info.get("PartitionKeys", [])),
        location=storage.get("Location", ""),
        parameters=dict(info.get("Parameters") or {}),
        account_id=account_id,
        region=region,
    )


def _s3_backend(account_id: str, region: str) -> Any:
    return s3_backends[account_id][get_partition(region)]


def _objects_under(table: CatalogTable, uri: str) -> list[S3Object]:
    bucket_name, prefix = _split_s3(uri)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    backend = _s3_backend(table.account_id, table.region)
    bucket = backend.buckets.get(bucket_name)
    if bucket is None:
        return []
    found = []
    for key_name, key in list(bucket.keys.items()):
        if not isinstance(key, FakeKey) or not key_name.startswith(prefix):
            continue
        leaf = key_name.rsplit("/", 1)[-1]
        if not leaf or leaf.startswith(("_", ".")):
            continue
        found.append(S3Object(bucket_name, key_name, key.size))
    return sorted(found, key=lambda o: o.key)


def _projected_partitions(table: CatalogTable) -> list[Partition]:
    """``key=value/`` prefixes under the location, in partition-key order."""
    names = [k for k, _ in table.partition_keys]
    _, base = _split_s3(table.location)
    if base and not base.endswith("/"):
        base += "/"
    grouped: dict[tuple[str, ...], list[S3Object]] = {}
    for obj in _objects_under(table, table.location):
        segments = obj.key[len(base) :].split("/")[:-1]
        if len(segments) < len(names):
            continue
        values = []
        for name, segment in zip(names, segments, strict=False):
            key, sep, value = segment.partition("=")
            if not sep or key.lower() != name:
                break
            values.append(value)
        if len(values) == len(names):
            grouped.setdefault(tuple(values), []).append(obj)
    return [Partition(v, tuple(objs)) for v, objs in sorted(grouped.items())]


def list_partitions(table: CatalogTable) -> list[Partition]:
    """Every partition Athena would consider (one value-less partition if unpartitioned)."""
    if not table.partition_keys:
        return [Partition((), tuple(_objects_under(table, table.location)))]
    glue_table = glue_backends[table.account_id][table.region].get_table(table.database, table.name)
    registered = list(glue_table.partitions.values())
    if registered:
        result = []
        for p in registered:
            location = (p.partition_input.get("StorageDescriptor") or {}).get("Location", "")
            objects = _objects_under(table, location) if location else []
            result.append(Partition(tuple(str(v) for v in p.values), tuple(objects)))
        return result
    if table.projected:
        return _projected_partitions(table)
    return []


def read_object(table: CatalogTable, obj: S3Object) -> bytes:
    """The object's bytes, straight from moto's S3 backend."""
    backend = _s3_backend(table.account_id, table.region)
    return backend.get_object(obj.bucket, obj.key).value
