"""From Athena (Trino) SQL to a DuckDB statement plus what it must scan.

Why sqlglot's AST rather than string rewriting: the sandbox has to know which
Glue tables a query reads (to fetch their objects), which WHERE conjuncts
touch only partition columns (partition pruning decides both what is read and
``DataScannedInBytes``), what the unnamed result columns are called (Trino's
``_col0``, ``_col1``...), where ``?`` placeholders are (``ExecutionParameters``)
and where an unknown name sits in the user's text (for Athena's
``line L:C`` messages).  Typed division (Trino's ``7 / 2`` is 3) needs column
types, so the statement is qualified against the catalog before transpiling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from .catalog import CatalogTable, LookupFailure
from .errors import USER_ERROR, AthenaQueryError, from_parse_error, position_of
from .types import glue_to_duckdb

__all__ = ["Plan", "Scan", "plan_query", "statement_type"]

DEFAULT_CATALOG = "awsdatacatalog"
_DDL_PREFIXES = ("ALTER", "CREATE", "DESCRIBE", "DROP", "MSCK", "SHOW")


@dataclass
class Scan:
    """One place a query reads a table; ``prune`` is a DuckDB predicate over partition keys."""

    table: CatalogTable
    prune: str | None


@dataclass
class Plan:
    original: exp.Expression
    duckdb_sql: str
    scans: list[Scan] = field(default_factory=list)

    @property
    def tables(self) -> dict[tuple[str, str], CatalogTable]:
        return {(s.table.database, s.table.name): s.table for s in self.scans}


def statement_type(query: str) -> str:
    """Athena's StatementType: DDL for catalog statements, DML otherwise."""
    return "DDL" if query.lstrip().upper().startswith(_DDL_PREFIXES) else "DML"


def _parse(query: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(query, read="trino") if s is not None]
    except ParseError as err:
        raise from_parse_error(err) from None
    except SqlglotError as err:
        raise AthenaQueryError(f"line 1:1: {err}") from None
    if len(statements) != 1:
        raise AthenaQueryError(
            "Only one sql statement is allowed. Got: " + str(len(statements)), type_=USER_ERROR
        )
    return statements[0]


def _bind_parameters(tree: exp.Expression, parameters: list[str] | None) -> None:
    """Replace ``?`` placeholders with the ExecutionParameters, as Athena does."""
    holders = list(tree.find_all(exp.Placeholder))
    given = list(parameters or [])
    if len(holders) != len(given):
        raise AthenaQueryError(
            f"Incorrect number of parameters: expected {len(holders)} but found {len(given)}",
            type_=USER_ERROR,
        )
    for holder, value in zip(holders, given, strict=True):
        try:
            literal = sqlglot.parse_one(value, read="trino")
        except ParseError as err:
            raise from_parse_error(err) from None
        holder.replace(literal)


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _name_columns(tree: exp.Expression) -> None:
    """Trino names an unnamed result column ``_col<position>``."""
    if not isinstance(tree, exp.Query):
        return
    select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    if select is None:
        return
    for i, projection in enumerate(list(select.expressions)):
        if isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
            continue
        projection.replace(exp.alias_(projection.copy(), f"_col{i}"))


def _values_as_select(values: exp.Values) -> exp.Expression:
    """A bare VALUES statement: Trino names its columns _col0, _col1..."""
    first = values.expressions[0] if values.expressions else None
    width = len(first.expressions) if isinstance(first, exp.Tuple) else 1
    names = [f"_col{i}" for i in range(width)]
    rows = values.copy()
    rows.set(
        "alias",
        exp.TableAlias(this=exp.to_identifier("t"), columns=[exp.to_identifier(n) for n in names]),
    )
    return exp.select("*").from_(rows)


def _conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    if node is None:
        return []
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    return [node]


def _prune_predicate(ref: exp.Table, table: CatalogTable) -> str | None:
    """The WHERE conjuncts of ``ref``'s own SELECT that read only its partition keys."""
    keys = {k for k, _ in table.partition_keys}
    select = ref.parent_select
    if not keys or select is None or ref.parent is None:
        return None
    if not isinstance(ref.parent, (exp.From, exp.Join)) or ref.parent.parent is not select:
        return None
    sources = len(select.args.get("joins") or []) + 1
    names = {ref.alias_or_name.lower(), ref.name.lower()}
    kept = []
    for conjunct in _conjuncts(select.args["where"].this if select.args.get("where") else None):
        if conjunct.find(exp.Subquery, exp.Select, exp.AggFunc, exp.Placeholder):
            continue
        columns = list(conjunct.find_all(exp.Column))
        if not columns or any(c.name.lower() not in keys for c in columns):
            continue
        if any((c.table.lower() not in names) if c.table else sources > 1 for c in columns):
            continue
        bare = conjunct.copy()
        for column in bare.find_all(exp.Column):
            column.replace(exp.column(column.name.lower(), quoted=True))
        kept.append(f"({bare.sql(dialect='duckdb')})")
    return " AND ".join(kept) or None


def _resolve(
    tree: exp.Expression,
    database: str,
    lookup: Callable[[str, str], CatalogTable],
) -> list[tuple[exp.Table, CatalogTable]]:
    ctes = _cte_names(tree)
    found = []
    for ref in list(tree.find_all(exp.Table)):
        if not ref.name or isinstance(ref.this, exp.Func):
            continue  # UNNEST(...), table functions
        if not ref.db and ref.name.lower() in ctes:
            continue
        catalog = (ref.catalog or DEFAULT_CATALOG).lower()
        schema = (ref.db or database).lower()
        where = position_of(ref.args.get("db") or ref.this)
        if catalog != DEFAULT_CATALOG:
            raise AthenaQueryError(f"CATALOG_NOT_FOUND: {where}Catalog '{catalog}' does not exist")
        try:
            table = lookup(schema, ref.name)
        except LookupFailure as miss:
            if miss.kind == "schema":
                raise AthenaQueryError(
                    f"SCHEMA_NOT_FOUND: {where}Schema '{schema}' does not exist"
                ) from None
            raise AthenaQueryError(
                f"TABLE_NOT_FOUND: {where}Table '{catalog}.{schema}.{ref.name.lower()}' "
                "does not exist"
            ) from None
        found.append((ref, table))
    return found


def _transpile(tree: exp.Expression, tables: list[CatalogTable], database: str) -> str:
    schema = MappingSchema(dialect="duckdb")
    for table in {(t.database, t.name): t for t in tables}.values():
        columns = {n: glue_to_duckdb(t) for n, t in (*table.columns, *table.partition_keys)}
        schema.add_table(exp.table_(table.name, db=table.database), columns)
    try:
        typed = qualify(
            tree.copy(),
            schema=schema,
            db=database,
            dialect="trino",
            validate_qualify_columns=True,
            expand_stars=False,
            quote_identifiers=True,
        )
        return annotate_types(typed, schema=schema).sql(dialect="duckdb")
    except SqlglotError:
        # Unknown columns, or a query the optimizer cannot follow: DuckDB still runs it
        # (reporting the unknown column itself), only with untyped division.
        return tree.sql(dialect="duckdb")


def plan_query(
    query: str,
    *,
    database: str,
    parameters: list[str] | None,
    lookup: Callable[[str, str], CatalogTable],
) -> Plan:
    """Parse, bind, resolve and transpile ``query``; raise AthenaQueryError as Athena would."""
    original = _parse(query)
    if isinstance(original, exp.Values):
        original = _values_as_select(original)
    if not isinstance(original, exp.Query):
        kind = original.key.upper()
        raise AthenaQueryError(
            f"NOT_SUPPORTED: the sandbox runs queries (SELECT, WITH, VALUES), not {kind}",
            type_=USER_ERROR,
        )
    tree = original.copy()
    _bind_parameters(tree, parameters)
    _name_columns(tree)
    refs = _resolve(tree, database.lower(), lookup)
    scans = [Scan(table, _prune_predicate(ref, table)) for ref, table in refs]
    for ref, table in refs:
        ref.set("catalog", None)
        ref.set("db", exp.to_identifier(table.database, quoted=True))
        ref.set("this", exp.to_identifier(table.name, quoted=True))
    return Plan(
        original=original,
        duckdb_sql=_transpile(tree, [t for _, t in refs], database.lower()),
        scans=scans,
    )
