"""CSV/JSON sniffing and reading under random files: records or a problem with its line.

The upload check and the ingest job share these readers, so an exception other than
`FormatProblem` / `UploadRejected` is a 500 on the upload page and a crashed Glue run.
"""

from __future__ import annotations

import io
import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dashapp.actions.uploads.problems import UploadRejected
from dashapp.actions.uploads.sniff import check_sample
from dashapp.config import Dataset
from dashapp.fileformats import FormatProblem, detect_format, summarize
from tests.reliability.conftest import examples
from tests.reliability.outcomes import attempt
from tests.reliability.strategies import edge_text, json_values

ORDERS = Dataset(
    name="orders",
    prefix="sales/orders/",
    glue_job="sales-orders-ingest",
    expected_columns=("order_id", "amount"),
)
ANY_COLUMNS = Dataset(name="clicks", prefix="web/clicks/", glue_job="web-clickstream-ingest")
NAMES = ("a.csv", "a.json", "a.ndjson", "a.jsonl", "A.CSV", "a.txt", "a", ".csv")
DEEP = b"[" * 100_000
HUGE_NUMBER = b'[{"order_id": ' + b"1" * 5000 + b', "amount": 1}]'


def _csv_text(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    import csv

    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


def documents() -> st.SearchStrategy[bytes]:
    """Files as people really send them, and broken in the ways files really break."""
    cells = st.lists(
        st.one_of(st.sampled_from(["order_id", "amount", ""]), edge_text()), max_size=4
    )
    csv_files = st.lists(cells, min_size=1, max_size=5).map(_csv_text)
    json_files = json_values(10).map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass"))
    ndjson_files = st.lists(json_values(4), max_size=4).map(
        lambda vs: "\n".join(json.dumps(v) for v in vs).encode("utf-8", "surrogatepass")
    )
    base = st.one_of(csv_files, json_files, ndjson_files, st.binary(max_size=200))

    @st.composite
    def damaged(draw: st.DrawFn) -> bytes:
        data = draw(base)
        how = draw(st.sampled_from(["none", "cut", "bom", "nul", "latin1", "crlf", "quote"]))
        if how == "cut" and data:
            data = data[: draw(st.integers(0, len(data) - 1))]
        elif how == "bom":
            data = b"\xef\xbb\xbf" + data
        elif how == "nul":
            data += b"\x00"
        elif how == "latin1":
            data += "é".encode("latin-1")
        elif how == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif how == "quote":
            data += b'\n"unclosed'
        return data

    return st.one_of(damaged(), st.sampled_from([DEEP, HUGE_NUMBER, b"{" + b'"a":[' * 2000]))


@settings(max_examples=examples(400))
@given(data=documents(), name=st.sampled_from(NAMES), complete=st.booleans())
@example(data=DEEP, name="a.json", complete=True)
@example(data=DEEP, name="a.json", complete=False)
@example(data=b'{"a": 1}\n' + DEEP, name="a.ndjson", complete=True)
@example(data=HUGE_NUMBER, name="a.json", complete=True)
@example(data=HUGE_NUMBER, name="a.json", complete=False)
@example(
    data=b'{"order_id": 1, "amount": 1}\n{"order_id": ' + b"9" * 5000 + b"}",
    name="a.json",
    complete=True,
)
def test_an_upload_sample_is_accepted_or_refused_with_a_sentence(
    data: bytes, name: str, complete: bool
) -> None:
    for dataset in (ORDERS, ANY_COLUMNS):
        report, refused = attempt(
            lambda d=dataset: check_sample(data, name, d, complete=complete), UploadRejected
        )
        if refused is not None:
            assert refused.message.strip() and refused.status == 400
            continue
        assert report.format in dataset.formats
        if complete:
            assert report.records_checked > 0


@settings(max_examples=examples(300))
@given(data=documents(), name=st.sampled_from(NAMES))
@example(data=DEEP, name="a.json")
@example(data=b'{"a": 1}\n{"b": ' + b"7" * 5000 + b"}\n", name="a.ndjson")
def test_the_ingest_reader_counts_rows_or_names_the_problem(data: bytes, name: str) -> None:
    summary, refused = attempt(lambda: summarize(io.BytesIO(data), name), FormatProblem)
    if refused is not None:
        assert refused.message.strip()
        return
    assert summary.rows > 0
    # The page's check agrees with the job: a file the job reads whole, the page accepts.
    assert check_sample(data, name, ANY_COLUMNS, complete=True).records_checked == summary.rows


@settings(max_examples=examples(200))
@given(head=st.binary(max_size=64), name=st.one_of(st.sampled_from(NAMES), edge_text()))
def test_format_detection_names_a_format_or_the_problem(head: bytes, name: str) -> None:
    found, refused = attempt(lambda: detect_format(head, name), FormatProblem)
    if refused is not None:
        assert refused.message.strip()
        return
    assert found in ("csv", "json", "ndjson")
