"""What a user is told about a file before anything is written: one clear sentence each."""

from __future__ import annotations

import json

import pytest

from dashapp.actions.uploads.names import sanitise_name
from dashapp.actions.uploads.problems import UploadRejected
from dashapp.actions.uploads.sniff import SAMPLE_BYTES, check_sample
from dashapp.actions.uploads.validate import (
    UploadRequest,
    human_size,
    parse_request,
    validate_request,
)
from dashapp.config import Dataset
from sandbox.datasets import DATASETS

DATASETS = {d.name: d for d in DATASETS}
ORDERS_HEADER = b"order_id,customer_id,amount,currency,ordered_at\n"
ORDERS_ROW = b"1,c-1,12.50,EUR,2026-11-25T10:00:00Z\n"
MAX = 10 * 1024 * 1024


def accept(name: str, body: bytes, dataset: str = "orders", max_bytes: int = MAX):
    sample = body[:SAMPLE_BYTES]
    return validate_request(
        UploadRequest(dataset=dataset, name=name, size=len(body)),
        sample,
        DATASETS,
        max_bytes=max_bytes,
    )


def refusal(name: str, body: bytes, dataset: str = "orders", max_bytes: int = MAX):
    with pytest.raises(UploadRejected) as info:
        accept(name, body, dataset, max_bytes)
    return info.value


def test_a_good_csv_is_accepted_with_its_format_and_columns():
    ok = accept("orders.csv", ORDERS_HEADER + ORDERS_ROW * 3)
    assert ok.report.format == "csv"
    assert ok.report.columns == ["order_id", "customer_id", "amount", "currency", "ordered_at"]
    assert ok.report.records_checked == 3
    assert ok.content_type == "text/csv"
    assert ok.safe_name == "orders.csv"


def test_a_byte_order_mark_is_not_part_of_the_first_column():
    ok = accept("excel export.csv", b"\xef\xbb\xbf" + ORDERS_HEADER + ORDERS_ROW)
    assert ok.report.columns[0] == "order_id"
    assert ok.safe_name == "excel_export.csv"


@pytest.mark.parametrize(
    ("name", "body", "dataset", "expected"),
    [
        ("empty.csv", b"", "orders", "The file is empty."),
        (
            "report.csv",
            b"PK\x03\x04" + b"\x00" * 200,
            "orders",
            "This is a ZIP archive (or an Excel .xlsx workbook), not a CSV text file.",
        ),
        (
            "ragged.csv",
            ORDERS_HEADER + ORDERS_ROW + b"2,c-2,3.00,EUR\n",
            "orders",
            "Line 3: Expected 5 values (like the header), found 4.",
        ),
        (
            "broken.json",
            b'[{"id": 1}, {"id": 2,}]',
            "clickstream",
            "Line 1: Invalid JSON: Expecting property name enclosed in double quotes "
            "(at character 22).",
        ),
        (
            "wrong.csv",
            b"id,total\n1,2\n",
            "orders",
            "Line 1: The header lacks the columns 'order_id', 'customer_id', 'amount', "
            "'currency', 'ordered_at' this dataset needs (it has 'id', 'total').",
        ),
        (
            "latin1.csv",
            ORDERS_HEADER + b"1,M\xfcller,1,EUR,2026-01-01\n",
            "orders",
            "Line 2: The file is not UTF-8 text (byte 0xfc cannot be read); save it as "
            "'CSV UTF-8' or UTF-8 JSON.",
        ),
        (
            "header-only.csv",
            ORDERS_HEADER,
            "orders",
            "The file has a header line but no data rows.",
        ),
        (
            "notes.txt",
            b"hello",
            "orders",
            "Only .csv, .json, .ndjson and .jsonl files can be uploaded "
            "(this file is named 'notes.txt').",
        ),
        (
            "events.ndjson",
            b'{"a": 1}\n{"a" 2}\n',
            "clickstream",
            "Line 2: Invalid JSON: Expecting ':' delimiter (at character 6).",
        ),
    ],
    ids=[
        "empty",
        "binary-renamed-csv",
        "ragged-rows",
        "invalid-json",
        "wrong-columns",
        "not-utf8",
        "no-rows",
        "wrong-extension",
        "bad-ndjson-line",
    ],
)
def test_bad_files_are_refused_with_one_sentence_naming_the_place(name, body, dataset, expected):
    problem = refusal(name, body, dataset)
    assert problem.message[0].isupper()
    assert problem.message == expected


def test_the_missing_column_is_named_for_the_page_to_point_at():
    problem = refusal("wrong.csv", b"order_id,customer_id\n1,2\n")
    assert (problem.line, problem.column) == (1, "amount")


def test_a_file_over_the_limit_is_refused_before_its_content_is_read():
    problem = refusal("big.csv", ORDERS_HEADER + ORDERS_ROW * 100, max_bytes=1000)
    assert problem.status == 413
    assert problem.message == (
        "The file is 3.7 kB; files can be at most 1.0 kB. Split it into smaller files and "
        "upload those."
    )


def test_a_format_the_dataset_does_not_take_is_refused():
    dataset = Dataset(name="csvonly", prefix="x/", glue_job="j", formats=("csv",))
    with pytest.raises(UploadRejected, match="takes CSV files, and this file is JSON"):
        validate_request(
            UploadRequest("csvonly", "a.json", 9), b'[{"a":1}]', {"csvonly": dataset}, max_bytes=MAX
        )


def test_an_unknown_dataset_is_named():
    problem = refusal("a.csv", ORDERS_HEADER + ORDERS_ROW, dataset="nope")
    assert problem.message == "There is no dataset called 'nope'."


def test_a_sample_of_the_wrong_length_is_refused():
    with pytest.raises(UploadRejected, match="sent 3 bytes of the file to check"):
        validate_request(UploadRequest("orders", "a.csv", 10), b"abc", DATASETS, max_bytes=MAX)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "../../etc/passwd.csv",
            "The file name '../../etc/passwd.csv' contains folder parts ('/', '\\' or '..'); "
            "choose the file itself, named without a folder.",
        ),
        (
            "a" * 296 + ".csv",
            "The file name is 300 characters long; rename the file to at most 255 characters "
            "and upload it again.",
        ),
        (
            "orders\x1b[31m.csv",
            "The file name contains an invisible control character (code 0x1b at position 7); "
            "rename the file and upload it again.",
        ),
        ("", "The file has no name."),
        (
            "..",
            "The file name '..' contains folder parts ('/', '\\' or '..'); "
            "choose the file itself, named without a folder.",
        ),
    ],
    ids=["path-traversal", "300-characters", "control-character", "empty", "dot-dot"],
)
def test_unsafe_file_names_are_refused_with_a_message(name, message):
    with pytest.raises(UploadRejected) as info:
        sanitise_name(name)
    assert info.value.message == message


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Orders März 2026.csv", "Orders_Marz_2026.csv"),
        ("q3 #1 (final).json", "q3_1_final.json"),
        ("日本.csv", "file.csv"),
        ("events.JSONL", "events.JSONL"),
    ],
)
def test_awkward_names_become_readable_key_names(name, safe):
    assert sanitise_name(name) == safe


def test_a_large_csv_is_checked_by_its_first_megabyte_even_cut_mid_row():
    body = ORDERS_HEADER + ORDERS_ROW * 60_000  # ~2.4 MB
    ok = accept("big.csv", body)
    assert not ok.report.complete
    assert 0 < ok.report.records_checked < 60_000


def test_a_large_csv_with_a_ragged_row_in_its_sample_is_refused():
    body = ORDERS_HEADER + ORDERS_ROW * 1000 + b"x,y\n" + ORDERS_ROW * 60_000
    assert refusal("big.csv", body).line == 1002


def test_a_large_json_array_is_checked_record_by_record_up_to_the_cut():
    records = [{"event_id": i, "page": "/p" * 10, "user": f"u{i}"} for i in range(40_000)]
    body = json.dumps(records).encode()
    assert len(body) > SAMPLE_BYTES
    ok = accept("clicks.json", body, dataset="clickstream")
    assert ok.report.format == "json" and not ok.report.complete
    assert ok.report.columns == ["event_id", "page", "user"]
    assert ok.report.records_checked > 1000


def test_a_large_json_array_with_a_syntax_error_in_its_sample_is_refused():
    records = [{"event_id": i, "page": "/p" * 10} for i in range(40_000)]
    body = json.dumps(records).encode().replace(b'{"event_id": 7,', b'{"event_id": 7,,', 1)
    problem = refusal("clicks.json", body, dataset="clickstream")
    assert problem.message.startswith("Line 1: Invalid JSON: Expecting property name")


def test_a_large_json_array_of_non_objects_is_refused():
    body = json.dumps(list(range(400_000))).encode()
    assert refusal("n.json", body, dataset="clickstream").message == (
        "Line 1: A record is not an object {…}."
    )


def test_a_large_ndjson_file_is_checked_line_by_line():
    line = json.dumps({"event_id": 1, "page": "/home"}).encode() + b"\n"
    ok = accept("clicks.ndjson", line * 60_000, dataset="clickstream")
    assert ok.report.format == "ndjson" and not ok.report.complete


def test_check_sample_ignores_a_utf8_character_cut_by_the_sample_end():
    dataset = DATASETS["customers"]
    body = b"id,name\n" + "1,Zoë\n".encode() * 200_000
    cut = body[:SAMPLE_BYTES]
    report = check_sample(cut, "c.csv", dataset, complete=False)
    assert report.records_checked > 0


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "a.csv", "size": "1"}, "Choose the dataset the file belongs to."),
        (
            {"dataset": "orders", "name": "a.csv", "size": "-1"},
            "The file size '-1' is not a whole number of bytes.",
        ),
    ],
)
def test_malformed_requests_are_named(form, message):
    with pytest.raises(UploadRejected) as info:
        parse_request(form)
    assert info.value.message == message


def test_sizes_read_the_way_file_managers_show_them():
    assert [human_size(n) for n in (0, 999, 1500, 5_368_709_120)] == [
        "0 bytes",
        "999 bytes",
        "1.5 kB",
        "5.4 GB",
    ]
