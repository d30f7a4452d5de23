"""Types and text: Glue column types for DuckDB, DuckDB result types as Athena names them,
and values as Athena prints them.

Why: GetQueryResults carries every value as a string (``VarCharValue``) and
``ResultSetMetadata.ColumnInfo`` names Trino types (``varchar``, ``bigint``,
``double``, ``timestamp``...).  A dashboard that formats numbers or sorts
dates relies on both, so the sandbox prints what Athena prints: ``true`` not
``True``, doubles the way Java does (``1.0E10``), timestamps to the
millisecond with a space, arrays ``[a, b]`` and rows/maps ``{k=v}``.
"""

from __future__ import annotations

import math
import re
import struct
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

__all__ = ["athena_column", "glue_to_duckdb", "java_double", "render"]

_SCALARS = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "binary": "VARCHAR",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


def _split_top(text: str) -> list[str]:
    """Split ``a:int,b:array<int>`` at the commas outside angle brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"<": 1, "(": 1, ">": -1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def glue_to_duckdb(glue_type: str) -> str:
    """A Glue (Hive) column type as the DuckDB type ``read_json`` casts to."""
    t = glue_type.strip().lower()
    if t.startswith("array<") and t.endswith(">"):
        return f"{glue_to_duckdb(t[6:-1])}[]"
    if t.startswith("map<") and t.endswith(">"):
        key, value = _split_top(t[4:-1])
        return f"MAP({glue_to_duckdb(key)}, {glue_to_duckdb(value)})"
    if t.startswith("struct<") and t.endswith(">"):
        fields = [f.split(":", 1) for f in _split_top(t[7:-1])]
        return "STRUCT(" + ", ".join(f'"{n}" {glue_to_duckdb(ft)}' for n, ft in fields) + ")"
    if m := re.fullmatch(r"decimal\((\d+)\s*,\s*(\d+)\)", t):
        return f"DECIMAL({m.group(1)},{m.group(2)})"
    base = re.sub(r"\(.*\)$", "", t)
    return _SCALARS.get(base, "VARCHAR")


#: (Athena type, Precision, Scale) by DuckDB type name; CaseSensitive only for strings.
_ATHENA = {
    "VARCHAR": ("varchar", 2147483647, 0),
    "BIGINT": ("bigint", 19, 0),
    "HUGEINT": ("bigint", 19, 0),
    "UBIGINT": ("bigint", 19, 0),
    "INTEGER": ("integer", 10, 0),
    "UINTEGER": ("bigint", 19, 0),
    "SMALLINT": ("smallint", 5, 0),
    "USMALLINT": ("integer", 10, 0),
    "TINYINT": ("tinyint", 3, 0),
    "UTINYINT": ("smallint", 5, 0),
    "DOUBLE": ("double", 17, 0),
    "FLOAT": ("real", 17, 0),
    "BOOLEAN": ("boolean", 0, 0),
    "DATE": ("date", 0, 0),
    "TIMESTAMP": ("timestamp", 3, 0),
    "TIMESTAMP_S": ("timestamp", 3, 0),
    "TIMESTAMP_MS": ("timestamp", 3, 0),
    "TIMESTAMP_NS": ("timestamp", 3, 0),
    "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3, 0),
    "TIME": ("time", 3, 0),
    "UUID": ("uuid", 0, 0),
    "BLOB": ("varbinary", 2147483647, 0),
    "JSON": ("json", 0, 0),
    "INTERVAL": ("interval day to second", 0, 0),
    "NULL": ("unknown", 0, 0),
}


def athena_column(name: str, duckdb_type: str) -> dict[str, Any]:
    """One ``ResultSetMetadata.ColumnInfo`` entry, as Athena returns it."""
    t = duckdb_type.upper()
    if m := re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", t):
        athena, precision, scale = "decimal", int(m.group(1)), int(m.group(2))
    elif t.endswith("[]"):
        athena, precision, scale = "array", 0, 0
    elif t.startswith("STRUCT"):
        athena, precision, scale = "row", 0, 0
    elif t.startswith("MAP"):
        athena, precision, scale = "map", 0, 0
    else:
        athena, precision, scale = _ATHENA.get(t, ("varchar", 2147483647, 0))
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": athena,
        "Precision": precision,
        "Scale": scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": athena == "varchar",
    }


def java_double(value: float) -> str:
    """``Double.toString``: Trino prints doubles this way (``12.5``, ``1.0E10``, ``NaN``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text else text + ".0"
    d = Decimal(repr(value))
    sign, digits, _ = d.as_tuple()
    exponent = d.adjusted()
    body = "".join(map(str, digits)).rstrip("0") or "0"
    mantissa = body[0] + "." + (body[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{exponent}"


def java_float(value: float) -> str:
    """``Float.toString`` for REAL: the shortest text that round-trips through float32."""
    if math.isnan(value) or math.isinf(value) or value == 0:
        return java_double(value)
    target = struct.pack("f", value)
    for precision in range(1, 10):
        candidate = float(f"{value:.{precision}g}")
        if struct.pack("f", candidate) == target:
            return java_double(candidate)
    return java_double(value)


def _millis(value: datetime | time) -> str:
    return f"{value.microsecond // 1000:03d}"


def render(value: Any, duckdb_type: str = "") -> str | None:
    """``value`` as Athena's VarCharValue (None for SQL NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_float(value) if duckdb_type.upper() == "FLOAT" else java_double(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        text = f"{value:%Y-%m-%d %H:%M:%S}.{_millis(value)}"
        return f"{text} UTC" if value.tzinfo is not None else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return f"{value:%H:%M:%S}.{_millis(value)}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return " ".join(f"{b:02x}" for b in bytes(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_nested(k)}={_nested(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (uuid.UUID, timedelta)):
        return str(value)
    return str(value)


def _nested(value: Any) -> str:
    text = render(value)
    return "null" if text is None else text
