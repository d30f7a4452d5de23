"""Athena's failure text for what goes wrong in sqlglot or DuckDB.

Why: a FAILED query in Athena carries a StateChangeReason such as
``COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved or requester is
not authorized to access requested resources`` and an ``AthenaError`` whose
ErrorCategory (1 SYSTEM, 2 USER) and ErrorType come from Athena's error
catalog (1000 user error, 1001 data error, 1006 syntax/analysis error, 200
engine internal error).  The dashboard shows that text, so the sandbox turns
the engine's own errors into it, placing the line:column at the offending
identifier of the *original* SQL (DuckDB only knows the transpiled SQL).
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.exceptions import JsonRESTError
from sqlglot import exp
from sqlglot.errors import ParseError

from .lifecycle import AthenaError

__all__ = [
    "AthenaQueryError",
    "InvalidRequest",
    "from_duckdb",
    "from_parse_error",
    "position_of",
]

USER, SYSTEM = 2, 1
USER_ERROR, DATA_ERROR, SYNTAX_ERROR, INTERNAL_ERROR = 1000, 1001, 1006, 200
_NOT_AUTHORIZED = " or requester is not authorized to access requested resources"


class InvalidRequest(JsonRESTError):
    """The API error Athena answers a bad request with (HTTP 400, InvalidRequestException)."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestException", message)


class AthenaQueryError(Exception):
    """A query failure carrying the AthenaError it becomes."""

    def __init__(self, message: str, *, category: int = USER, type_: int = SYNTAX_ERROR) -> None:
        super().__init__(message)
        self.error = AthenaError(category=category, type=type_, message=message)


def position_of(node: exp.Expression | None) -> str:
    """``line L:C: `` for a parsed node (sqlglot keeps the token's end column), else ``""``."""
    if node is None:
        return ""
    meta: dict[str, Any] = node.meta if "line" in (node.meta or {}) else {}
    if not meta:  # columns and tables keep the position on their identifier
        ident = node if isinstance(node, exp.Identifier) else node.find(exp.Identifier)
        meta = (ident.meta if ident is not None else None) or {}
    if "line" not in meta or "col" not in meta:
        return ""
    width = int(meta.get("end", 0)) - int(meta.get("start", 0))
    return f"line {meta['line']}:{max(1, int(meta['col']) - width)}: "


def from_parse_error(err: ParseError) -> AthenaQueryError:
    """Trino's parser message shape: ``line 1:8: mismatched input 'FORM'. <why>``."""
    first = err.errors[0] if err.errors else {}
    line, col = first.get("line", 1), first.get("col", 1)
    token = str(first.get("highlight") or "").strip()
    start = max(1, int(col) - max(len(token), 1) + 1)
    what = f"mismatched input '{token}'. " if token else ""
    description = str(first.get("description") or err).split("\n")[0]
    return AthenaQueryError(f"line {line}:{start}: {what}{description}")


def _named(root: exp.Expression, kinds: tuple[type[exp.Expression], ...], name: str) -> Any:
    wanted = name.lower()
    for node in root.find_all(*kinds):
        node_name = node.name if not isinstance(node, exp.Func) else _func_name(node)
        if node_name.lower() == wanted:
            return node
    return None


def _func_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this)
    return node.sql_name() if isinstance(node, exp.Func) else node.name


_COLUMN = re.compile(r'Referenced column "?([^"\s]+)"? not found', re.IGNORECASE)
_TABLE_COLUMN = re.compile(r'Table "([^"]+)" does not have a column named "([^"]+)"')
_FUNCTION = re.compile(r"(?:Scalar|Aggregate|Table) Function with name (\S+) does not exist")
_CAST = re.compile(r"Could not convert string '([^']*)' to (\w+)")
_TRINO_TYPE = {"INT8": "TINYINT", "INT16": "SMALLINT", "INT32": "INTEGER", "INT64": "BIGINT"}
_JSON_FILE = re.compile(r'JSON transform error in file "([^"]+)", in line (\d+): (.*)')


def from_duckdb(
    exc: Exception, original: exp.Expression, files: dict[str, str]
) -> AthenaQueryError:
    """DuckDB's exception as Athena would word the same failure.

    ``original`` is the user's parsed SQL (for line:column); ``files`` maps the
    temporary paths DuckDB read to the S3 URIs they came from.
    """
    text = str(exc)
    first = text.split("\n", 1)[0]
    detail = first.split(": ", 1)[1] if ": " in first else first
    if m := _COLUMN.search(first) or _TABLE_COLUMN.search(first):
        name = m.group(m.lastindex or 1)
        where = position_of(_named(original, (exp.Column,), name))
        return AthenaQueryError(
            f"COLUMN_NOT_FOUND: {where}Column '{name}' cannot be resolved{_NOT_AUTHORIZED}"
        )
    if m := _FUNCTION.search(first):
        name = m.group(1).strip('"')
        node = _named(original, (exp.Func,), name)
        return AthenaQueryError(
            f"FUNCTION_NOT_FOUND: {position_of(node)}Function '{name.lower()}' not registered"
        )
    if m := _JSON_FILE.search(text):
        path, line, why = m.groups()
        uri = files.get(path, path)
        why = why.split("\n")[0]
        return AthenaQueryError(
            f"HIVE_BAD_DATA: Error parsing field value in line {line} of {uri}: {why}",
            type_=DATA_ERROR,
        )
    if m := _CAST.search(first):
        value, target = m.groups()
        target = _TRINO_TYPE.get(target.upper(), target.upper())
        return AthenaQueryError(
            f"INVALID_CAST_ARGUMENT: Cannot cast '{value}' to {target}",
            type_=DATA_ERROR,
        )
    kind = type(exc).__name__
    if kind in ("BinderException", "CatalogException", "ParserException"):
        return AthenaQueryError(f"SYNTAX_ERROR: {detail}")
    if kind in ("ConversionException", "InvalidInputException", "OutOfRangeException"):
        return AthenaQueryError(f"INVALID_FUNCTION_ARGUMENT: {detail}", type_=DATA_ERROR)
    if kind == "NotImplementedException":
        return AthenaQueryError(f"NOT_SUPPORTED: {detail}", type_=USER_ERROR)
    return AthenaQueryError(
        f"GENERIC_INTERNAL_ERROR: {detail}", category=SYSTEM, type_=INTERNAL_ERROR
    )
