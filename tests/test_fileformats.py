"""The file reader users meet twice: the upload page checks a file, the job reads it."""

from __future__ import annotations

import io
import json

import pytest

from dashapp.fileformats import FormatProblem, detect_format, summarize


def read(data: bytes, name: str = "orders.csv", expected: tuple[str, ...] = ()):
    return summarize(io.BytesIO(data), name, expected_columns=expected)


def problem(data: bytes, name: str = "orders.csv", expected: tuple[str, ...] = ()) -> FormatProblem:
    with pytest.raises(FormatProblem) as e:
        read(data, name, expected)
    return e.value


def test_csv_rows_count_quoted_commas_embedded_newlines_and_utf8():
    data = (
        "\ufeffid,name,comment\r\n"
        '1,"Müller, Jörg","says ""hi"""\r\n'
        '2,Zoë,"line one\nline two"\r\n'
        "3,東京,plain\r\n"
        "\r\n"
    ).encode()
    s = read(data)
    assert s.format == "csv"
    assert s.columns == ["id", "name", "comment"]
    assert s.rows == 3


def test_csv_ragged_row_names_the_line_counting_embedded_newlines():
    data = b'id,name\n1,"two\nlines"\n2,b,extra\n'
    p = problem(data)
    assert p.line == 4
    assert "expected 2 values" in str(p) and "found 3" in str(p)


def test_csv_unclosed_quote_is_named():
    p = problem(b'id,name\n1,"never closed\n2,b\n')
    assert "never closed" in p.message or "quoted field" in p.message
    assert p.line == 2


def test_csv_missing_expected_columns_are_listed():
    p = problem(b"id,amount\n1,2\n", expected=("id", "customer_id", "amount", "currency"))
    assert "'customer_id'" in p.message and "'currency'" in p.message
    assert p.column == "customer_id"


def test_csv_duplicate_and_blank_header_names():
    assert "appears twice" in problem(b"id,id\n1,2\n").message
    assert "column 2 has no name" in problem(b"id,,x\n1,2,3\n").message


def test_header_only_csv_has_no_data_rows():
    assert "no data rows" in problem(b"id,name\n").message


def test_empty_file():
    assert problem(b"").message == "the file is empty"
    assert problem(b"\xef\xbb\xbf\n\n").message == "the file is empty"


def test_binary_renamed_csv_is_refused_with_what_it_is():
    assert "ZIP" in problem(b"PK\x03\x04\x14\x00rest").message
    assert "PDF" in problem(b"%PDF-1.7\n...").message
    assert "NUL" in problem(b"id,name\n1,\x00\x00\n").message


def test_utf16_file_is_explained():
    data = "id,name\n1,a\n".encode("utf-16")
    p = problem(data)
    assert "binary data" in p.message or "UTF-8" in p.message


def test_latin1_byte_is_reported_with_its_line():
    p = problem(b"id,name\n1,ok\n2,M\xfcller\n")
    assert p.line == 3
    assert "0xfc" in p.message


def test_non_csv_extension_is_refused():
    assert ".csv, .json" in problem(b"a,b\n1,2\n", name="report.xlsx").message


def test_json_array_and_ndjson():
    records = [{"id": i, "name": f"n{i}"} for i in range(5)]
    assert read(json.dumps(records).encode(), "c.json").rows == 5
    nd = "\n".join(json.dumps(r) for r in records).encode() + b"\n\n"
    s = read(nd, "c.ndjson")
    assert (s.format, s.rows, s.columns) == ("ndjson", 5, ["id", "name"])
    # NDJSON saved as .json is still read as NDJSON.
    assert read(nd, "c.json").format == "ndjson"


def test_invalid_json_names_line_and_problem():
    p = problem(b'[\n {"id": 1},\n {"id": 2,,}\n]', name="c.json")
    assert p.line == 3
    assert "invalid JSON" in p.message


def test_ndjson_bad_line_and_non_object():
    p = problem(b'{"id": 1}\n{"id": 2\n', name="c.jsonl")
    assert p.line == 2
    p = problem(b'{"id": 1}\n[1,2]\n', name="c.ndjson")
    assert "must be an object" in p.message and p.line == 2


def test_json_items_must_be_objects_and_carry_expected_fields():
    assert "item 2" in problem(b'[{"id":1}, 3]', name="c.json").message
    p = problem(b'[{"id":1}]', name="c.json", expected=("id", "amount"))
    assert "'amount'" in p.message


def test_json_named_csv_and_csv_named_json():
    assert "contains JSON" in problem(b'[{"a":1}]', name="x.csv").message
    assert "is it really JSON" in problem(b"a,b\n1,2\n", name="x.json").message


def test_detect_format_tolerates_a_cut_multibyte_character_in_a_sample():
    head = "id,name\n1,Zoë".encode()[:-1]  # cut inside 'ë'
    assert detect_format(head, "x.csv", complete=False) == "csv"


def test_streaming_large_csv_counts_every_row():
    rows = 200_000
    data = io.BytesIO()
    data.write(b"id,value\n")
    for i in range(rows):
        data.write(f'{i},"v,{i}"\n'.encode())
    data.seek(0)
    assert summarize(data, "big.csv").rows == rows
