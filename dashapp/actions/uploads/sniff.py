"""Checking the first megabytes of a file the way the ingest job reads the whole of it.

A large file is validated from a sample the browser reads (its first bytes): the
format, the encoding, the header and every complete row in the sample are
checked with `dashapp.fileformats`, the reader the ingest job itself uses. What
a sample cannot show (rows past it, the end of a JSON array) the job checks. A
sample ends mid-row, mid-character or mid-document; that is not an error, any
other problem is — reported with its line and, where there is one, its column.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

from dashapp.actions.uploads.problems import UploadRejected
from dashapp.config import Dataset
from dashapp.fileformats import (
    Format,
    FormatProblem,
    TableSummary,
    decode_utf8,
    detect_format,
    iter_csv,
    iter_json,
    iter_ndjson,
    json_limit_problem,
)

SAMPLE_BYTES = 1024 * 1024  # what the browser sends of a larger file
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class SampleReport:
    """What the check saw: the format, the columns and how many records it read."""

    format: Format
    columns: list[str] = field(default_factory=list)
    records_checked: int = 0
    complete: bool = True


def _rejected(problem: FormatProblem) -> UploadRejected:
    where = f"Line {problem.line}: " if problem.line else ""
    message = problem.message[:1].upper() + problem.message[1:]
    if not message.endswith((".", "?", "!")):
        message += "."
    return UploadRejected(f"{where}{message}", line=problem.line, column=problem.column)


def check_sample(sample: bytes, filename: str, dataset: Dataset, *, complete: bool) -> SampleReport:
    """Read `sample` (the whole file when `complete`); UploadRejected naming the first problem."""
    try:
        fmt = detect_format(sample, filename, complete=complete)
        if fmt not in dataset.formats:
            allowed = ", ".join(f.upper() for f in dataset.formats)
            raise UploadRejected(
                f"The dataset '{dataset.label}' takes {allowed} files, and this file is "
                f"{fmt.upper()}."
            )
        if not complete:
            # Only whole lines: the sample may end in the middle of a row or a character.
            sample = sample[: sample.rfind(b"\n") + 1] if fmt != "json" else sample
        text = decode_utf8(sample, complete=complete)
        summary = TableSummary(format=fmt)
        expected = dataset.expected_columns
        if fmt == "csv":
            _read_csv(text, expected, summary, complete)
        elif fmt == "ndjson":
            for _ in iter_ndjson(io.StringIO(text), expected_columns=expected, summary=summary):
                pass
        elif complete:
            for _ in iter_json(text, expected_columns=expected, summary=summary):
                pass
        else:
            _read_json_prefix(text, expected, summary)
    except FormatProblem as e:
        raise _rejected(e) from None
    if complete and summary.rows == 0:
        raise UploadRejected(
            "The file has a header line but no data rows."
            if fmt == "csv"
            else "The file holds no records."
        )
    return SampleReport(fmt, summary.columns, summary.rows, complete)


def _read_csv(text: str, expected: tuple[str, ...], summary: TableSummary, complete: bool) -> None:
    try:
        lines = io.StringIO(text, newline="")
        for _ in iter_csv(lines, expected_columns=expected, summary=summary):
            pass
    except FormatProblem as e:
        # A quoted field holding line breaks may be cut by the end of the sample.
        if complete or "never closed" not in e.message:
            raise


def _read_json_prefix(text: str, expected: tuple[str, ...], summary: TableSummary) -> None:
    """Each whole record at the start of a JSON document too large to send; the cut one is not
    an error. Records must be objects carrying the dataset's expected fields."""
    body = text.lstrip("\ufeff \t\r\n")
    offset = len(text) - len(body)
    if body.startswith("{"):
        _decode_or_cut(text, offset, expected, summary)
        return
    pos = offset + 1  # after '['
    while True:
        pos = _skip_space(text, pos)
        if pos >= len(text) or text[pos] == "]":
            return
        if summary.rows and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
        elif summary.rows:
            raise FormatProblem(
                f"invalid JSON: expected ',' between records (found {text[pos]!r})",
                line=text.count("\n", 0, pos) + 1,
            )
        if pos >= len(text):
            return
        end = _decode_or_cut(text, pos, expected, summary)
        if end is None:
            return
        pos = end


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _decode_or_cut(
    text: str, pos: int, expected: tuple[str, ...], summary: TableSummary
) -> int | None:
    """Decode one record at `pos`; None when the sample ends inside it."""
    line = text.count("\n", 0, pos) + 1
    try:
        obj, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as e:
        if _cut_by_sample_end(text, e):
            return None
        problem = f"invalid JSON: {e.msg} (at character {e.colno})"
        raise FormatProblem(problem, line=e.lineno) from None
    except (RecursionError, ValueError) as e:
        raise json_limit_problem(e, line) from None
    if not isinstance(obj, dict):
        raise FormatProblem("a record is not an object {…}", line=line)
    missing = [c for c in expected if c not in obj]
    if missing:
        raise FormatProblem(
            "the record lacks the field"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(repr(c) for c in missing)
            + " this dataset needs",
            line=line,
            column=missing[0],
        )
    if not summary.columns:
        summary.columns = list(obj)
    summary.rows += 1
    return end


def _cut_by_sample_end(text: str, error: json.JSONDecodeError) -> bool:
    """The decoder stopped because the text ran out, not because the JSON is wrong."""
    if error.msg.startswith("Unterminated string"):
        return True
    return _skip_space(text, error.pos) >= len(text)
