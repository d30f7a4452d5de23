"""What the dashboard reads from a query's SQL before it runs: the partition-filter warning.

A query on a partitioned table with no condition on a partition key reads every
partition, and Athena bills every byte; saying so before Run is the cheapest cost
control there is. The SQL is parsed with sqlglot's Trino dialect (Athena's engine);
SQL it cannot parse gets no warning here, and Athena's own error after Run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# Athena takes 262,144 bytes; each character is at least one. The warning runs on every
# keystroke, so text past that is not parsed at all.
MAX_SQL_CHARS = 262_144


def _table_key(table: exp.Table) -> list[str]:
    name = table.name.lower()
    return [f"{table.db.lower()}.{name}", name] if table.db else [name]


def unfiltered_partitions(sql: str, partitioned: Mapping[str, Sequence[str]]) -> list[str]:
    """The partitioned tables the query reads without a condition on any partition key, as
    'table (partitioned by k1, k2)' texts; [] when every one is filtered or none is read."""
    if len(sql) > MAX_SQL_CHARS:
        return []  # longer than Athena takes: Run says so; the warning is not worth the parse
    try:
        statements = sqlglot.parse(sql, read="trino")
    except (SqlglotError, RecursionError):  # parentheses nested thousands deep
        return []
    warnings: list[str] = []
    for statement in statements:
        if statement is None:
            continue
        for select in statement.find_all(exp.Select):
            clauses = [select.args.get("where"), *(select.args.get("joins") or [])]
            filtered = {
                c.name.lower()
                for clause in clauses
                if clause is not None
                for c in clause.find_all(exp.Column)
            }
            for table in select.find_all(exp.Table):
                if table.find_ancestor(exp.Select) is not select:
                    continue
                keys = next((partitioned[k] for k in _table_key(table) if k in partitioned), None)
                if keys and not filtered & {k.lower() for k in keys}:
                    text = f"{table.name} (partitioned by {', '.join(keys)})"
                    if text not in warnings:
                        warnings.append(text)
    return warnings
