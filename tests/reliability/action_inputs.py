"""What people type into the action forms (Glue run arguments, Athena SQL and its
parameters), and what only a crafted request sends, for the fuzz tests of those actions."""

from __future__ import annotations

from hypothesis import strategies as st

from dashapp.actions.athena import PARAMETER_TYPES
from dashapp.actions.run_arguments import MAX_VALUE_LENGTH, RESERVED_KEYS
from tests.reliability.strategies import edge_text


def argument_lines() -> st.SearchStrategy[str]:
    key = st.one_of(
        st.from_regex(r"--[A-Za-z0-9][A-Za-z0-9_.-]{0,140}", fullmatch=True),
        st.sampled_from(sorted(RESERVED_KEYS)),
        edge_text(),
    )
    value = st.one_of(edge_text(), st.just("x" * (MAX_VALUE_LENGTH + 1)))
    line = st.one_of(st.builds(lambda k, v: f"{k}={v}", key, value), edge_text())
    return st.lists(line, max_size=8).map("\n".join)


def sql_text() -> st.SearchStrategy[str]:
    pieces = st.sampled_from(
        [
            "SELECT ",
            "?",
            "'?'",
            "'it''s'",
            '"?"',
            "-- ?\n",
            "/* ? */",
            "/*",
            "'",
            ";",
            " FROM t",
            "\n",
        ]
    )
    return st.one_of(st.lists(st.one_of(pieces, edge_text()), max_size=8).map("".join), edge_text())


def parameters_text() -> st.SearchStrategy[str]:
    kind = st.sampled_from([*PARAMETER_TYPES, "STRING", "Date", "float", ""])
    return st.lists(st.builds(lambda k, v: f"{k} {v}", kind, edge_text()), max_size=4).map(
        "\n".join
    )
