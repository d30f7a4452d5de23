"""The action validators under random input: Glue run arguments and Athena queries
(and the partition warning the editor reads from a query before it runs).

Both stand between a form and an AWS call; each must answer the value to send or
one message per mistake, and nothing a user types may raise anything else.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dashapp.actions.athena import (
    MAX_SQL_BYTES,
    PARAMETER_TYPES,
    QueryError,
    parameter_literal,
    placeholders,
    validate,
)
from dashapp.actions.run_arguments import (
    MAX_VALUE_LENGTH,
    RESERVED_KEYS,
    ArgumentError,
    format_arguments,
    parse_arguments,
    validate_arguments,
)
from dashapp.athena_sql import unfiltered_partitions
from pages.athena.callbacks import parse_parameters
from tests.reliability.action_inputs import argument_lines, parameters_text, sql_text
from tests.reliability.conftest import examples
from tests.reliability.outcomes import attempt
from tests.reliability.strategies import edge_ints, edge_text, json_scalars

# --- Glue run arguments ---------------------------------------------------------------


@settings(max_examples=examples(300))
@given(text=st.one_of(st.none(), argument_lines()))
@example(text="--a=1\r--a=2")
@example(text="--path=\ud800")
@example(text="\n".join(f"--k{i}=v" for i in range(51)))
def test_run_arguments_are_what_glue_accepts_or_every_problem(text: str | None) -> None:
    arguments, refused = attempt(lambda: parse_arguments(text), ArgumentError)
    if refused is not None:
        assert refused.problems and all(p.strip() for p in refused.problems)
        return
    assert not RESERVED_KEYS & set(arguments)
    assert all(len(v) <= MAX_VALUE_LENGTH for v in arguments.values())
    "".join(arguments.values()).encode()  # what boto3 sends: UTF-8 must be able to carry it
    # What the editor is prefilled with reads back to the same arguments.
    assert parse_arguments(format_arguments(arguments)) == arguments


@settings(max_examples=examples(200))
@given(
    arguments=st.dictionaries(
        st.one_of(edge_text(), st.from_regex(r"--[a-z]{1,8}", fullmatch=True), edge_ints()),
        json_scalars(),
        max_size=6,
    )
)
def test_arguments_from_a_stored_run_are_checked_the_same_way(arguments: dict) -> None:
    out, refused = attempt(lambda: validate_arguments(arguments), ArgumentError)
    if refused is not None:
        assert refused.problems
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in out.items())


# --- Athena --------------------------------------------------------------------------


@settings(max_examples=examples(300))
@given(
    sql=st.one_of(st.none(), sql_text()),
    params=st.one_of(st.none(), parameters_text()),
    reuse=st.one_of(st.none(), edge_ints()),
)
@example(sql="SELECT '\ud800'", params=None, reuse=None)
@example(sql="SELECT 1" + " " * MAX_SQL_BYTES, params=None, reuse=None)
def test_a_query_is_what_athena_takes_or_a_sentence(
    sql: str | None, params: str | None, reuse: int | None
) -> None:
    found, refused = attempt(lambda: validate(sql, parse_parameters(params), reuse), QueryError)
    if refused is not None:
        assert str(refused).strip()
        return
    text, literals = found
    assert text and placeholders(text) == len(literals)
    assert len(text.encode()) <= MAX_SQL_BYTES


@settings(max_examples=examples(300))
@given(kind=st.sampled_from([*PARAMETER_TYPES, "float", ""]), value=edge_text())
def test_a_parameter_is_a_literal_or_a_sentence(kind: str, value: str) -> None:
    literal, refused = attempt(lambda: parameter_literal(kind, value), QueryError)
    if refused is not None:
        assert str(refused).strip()
        return
    if kind == "string":  # quotes doubled: the value cannot end the literal early
        assert literal.startswith("'") and literal.endswith("'")
        assert "'" not in literal[1:-1].replace("''", "")


@settings(max_examples=examples(200))
@given(
    sql=st.one_of(
        sql_text(),
        st.integers(1, 4000).map(lambda n: "SELECT * FROM orders WHERE " + "(" * n + "1" + ")" * n),
    ),
    partitioned=st.dictionaries(
        st.one_of(st.sampled_from(["orders", "processed.orders"]), edge_text()),
        st.lists(st.one_of(st.just("ingest_date"), edge_text()), max_size=2),
        max_size=2,
    ),
)
@example(sql="(" * 5000 + "1" + ")" * 5000, partitioned={"orders": ["ingest_date"]})
def test_the_partition_warning_reads_any_sql(sql: str, partitioned: dict) -> None:
    """The editor's warning parses the SQL on every keystroke: parentheses nested a few
    thousand deep raised RecursionError out of sqlglot (a 500 while typing)."""
    warnings = unfiltered_partitions(sql, partitioned)
    assert all(isinstance(w, str) and "partitioned by" in w for w in warnings)
