"""Pure parts of the sandbox's Athena: values as Athena prints them, its CSV, Glue types.

Unit tests (no moto): the fidelity tests cover these end to end; these pin the
edge cases a person reading a result would notice.
"""

from __future__ import annotations

import random

import pytest

from sandbox.fidelity.athena.resultfile import ResultFile, csv_line, parse_record
from sandbox.fidelity.athena.types import glue_to_duckdb, java_double, render


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12.5, "12.5"),
        (3.0, "3.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1e10, "1.0E10"),
        (-1234567.0, "-1234567.0"),
        (12345678.9, "1.23456789E7"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
        (-0.0, "-0.0"),
    ],
)
def test_doubles_print_as_java_does(value: float, text: str) -> None:
    """Athena (Trino, Java) prints doubles with Double.toString."""
    assert java_double(value) == text


def test_nested_and_special_values_print_as_athena_does() -> None:
    assert render([1, None, "a"]) == "[1, null, a]"
    assert render({"k": 1.5, "z": True}) == "{k=1.5, z=true}"
    assert render(0.1, "FLOAT") == "0.1"
    assert render(b"ab") == "61 62"
    assert render(None) is None


def test_csv_records_round_trip_keeping_null_apart_from_empty() -> None:
    """NULL is an empty unquoted field, '' a quoted one; quotes, commas, newlines survive."""
    rng = random.Random(7)
    alphabet = ['"', ",", "\n", "a", "é", " ", "\r"]
    for _ in range(500):
        record = [
            None if rng.random() < 0.2 else "".join(rng.choices(alphabet, k=rng.randint(0, 6)))
            for _ in range(rng.randint(1, 5))
        ]
        assert parse_record(csv_line(record).decode("utf-8")) == record


def test_result_file_serves_any_slice_of_its_rows() -> None:
    result = ResultFile([])
    rows = [[str(i), None if i % 3 else f'q"{i}"'] for i in range(2500)]
    result.append([["n", "q"], *rows])
    assert result.lines == 2501
    assert result.read_rows(0, 2) == [["n", "q"], rows[0]]
    assert result.read_rows(1000, 1000) == rows[999:1999]
    assert result.read_rows(2500, 1000) == [rows[-1]]
    assert result.read_bytes().count(b"\n") == 2501
    result.close()


def test_glue_types_map_to_duckdb() -> None:
    assert glue_to_duckdb("string") == "VARCHAR"
    assert glue_to_duckdb("decimal(10, 2)") == "DECIMAL(10,2)"
    assert glue_to_duckdb("array<struct<a:int,b:map<string,double>>>") == (
        'STRUCT("a" INTEGER, "b" MAP(VARCHAR, DOUBLE))[]'
    )
    assert glue_to_duckdb("varchar(20)") == "VARCHAR"
