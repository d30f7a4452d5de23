"""Reading CSV, JSON and NDJSON the way our users' files really are — and saying what is wrong.

One implementation serves the upload check (a sample, before anything is written)
and the ingest job (the whole file), so a file the page accepts is one the job
can read, and both name the same line when it is not. Everything here is pure:
bytes or text streams in, records or a `FormatProblem` out.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

Format = Literal["csv", "json", "ndjson"]
FORMATS: tuple[Format, ...] = ("csv", "json", "ndjson")
EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
# csv's default limit (128 KiB) would reject legitimate wide text columns.
csv.field_size_limit(16 * 1024 * 1024)

_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (or an Excel .xlsx workbook)"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.xls/.doc)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PAR1", "a Parquet file"),
    (b"\x7fELF", "a program (ELF binary)"),
    (b"MZ", "a Windows program"),
    (b"SQLite format 3", "an SQLite database"),
)


class FormatProblem(ValueError):
    """What is wrong with a file, in words a non-technical user can act on."""

    def __init__(self, message: str, *, line: int | None = None, column: str | None = None):
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def json_limit_problem(error: RecursionError | ValueError, line: int | None) -> FormatProblem:
    """What to tell about a document `json` reads as valid but Python cannot hold: one nested
    deeper than the interpreter's recursion limit, or an integer past its 4,300 digits."""
    if isinstance(error, RecursionError):
        return FormatProblem(
            "the JSON nests arrays or objects too deeply to read; flatten the records",
            line=line,
        )
    return FormatProblem("the JSON holds a number longer than 4,300 digits", line=line)


@dataclass
class TableSummary:
    """What reading a file found: enough for the job's logs and metrics."""

    format: Format
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    lines: int = 0


def extension_format(filename: str) -> Format | None:
    lower = filename.lower()
    for ext, fmt in EXTENSIONS.items():
        if lower.endswith(ext):
            return fmt
    return None


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def detect_format(head: bytes, filename: str, *, complete: bool = False) -> Format:
    """Decide CSV / JSON / NDJSON from the name and the first bytes; refuse anything else.

    `head` may be a prefix of the file (`complete=False`): a multi-byte UTF-8
    character cut at its end is not an error then.
    """
    by_name = extension_format(filename)
    if by_name is None:
        raise FormatProblem(
            "only .csv, .json, .ndjson and .jsonl files can be uploaded "
            f"(this file is named {filename!r})"
        )
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FormatProblem("the file is empty")
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            raise FormatProblem(f"this is {what}, not a {by_name.upper()} text file")
    if b"\x00" in head:
        nul = head.index(b"\x00")
        raise FormatProblem(
            "the file contains binary data (a NUL byte), so it is not a text file; "
            "was it saved as UTF-16 or exported from a spreadsheet in a binary format?",
            line=_line_of_offset(head, nul),
        )
    text = decode_utf8(head, complete=complete)
    first = text.lstrip("\ufeff \t\r\n")[:1]
    if by_name == "csv":
        if first in ("{", "["):
            raise FormatProblem("the file is named .csv but contains JSON; rename it to .json")
        return "csv"
    if first == "[":
        if by_name == "ndjson":
            raise FormatProblem(
                "the file is named .ndjson/.jsonl but holds a JSON array; rename it to .json"
            )
        return "json"
    if first == "{":
        # A .json file may be newline-delimited; more than one top-level object on
        # separate lines is NDJSON.
        if by_name == "json" and _looks_like_ndjson(text):
            return "ndjson"
        return by_name
    raise FormatProblem(
        f"the file is named .{by_name} but does not start with "
        + ("'[' or '{'" if by_name == "json" else "'{'")
        + f" (it starts with {first!r}); is it really JSON?",
        line=1,
    )


def _looks_like_ndjson(text: str) -> bool:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return False
    try:
        json.loads(lines[0])
    except (ValueError, RecursionError):  # not one whole object: not NDJSON
        return False
    return lines[1].startswith("{")


def decode_utf8(data: bytes, *, complete: bool = True) -> str:
    """UTF-8 (with or without BOM) to text; a bad byte is reported with its line."""
    try:
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        return decoder.decode(data, final=complete)
    except UnicodeDecodeError as e:
        raise FormatProblem(
            f"the file is not UTF-8 text (byte 0x{data[e.start]:02x} cannot be read); "
            "save it as 'CSV UTF-8' or UTF-8 JSON",
            line=_line_of_offset(data, e.start),
        ) from None


class _LineCountingText(io.TextIOBase):
    """A UTF-8 text view of a byte stream that reports bad bytes with their line number."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._line = 1
        self._buffer = ""
        self._eof = False

    def readline(self, size: int | None = -1) -> str:  # csv.reader iterates lines
        while "\n" not in self._buffer and not self._eof:
            chunk = self._raw.read(1 << 16)
            if not chunk:
                self._eof = True
                try:
                    self._buffer += self._decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    raise FormatProblem(
                        "the file ends in the middle of a UTF-8 character", line=self._line
                    ) from None
                break
            try:
                self._buffer += self._decoder.decode(chunk)
            except UnicodeDecodeError as e:
                good = chunk[: e.start]
                self._buffer += good.decode("utf-8", errors="ignore")
                line = self._line + self._buffer.count("\n")
                raise FormatProblem(
                    f"the file is not UTF-8 text (byte 0x{chunk[e.start]:02x} cannot be read); "
                    "save it as 'CSV UTF-8' or UTF-8 JSON",
                    line=line,
                ) from None
        idx = self._buffer.find("\n")
        if idx < 0:
            out, self._buffer = self._buffer, ""
        else:
            out, self._buffer = self._buffer[: idx + 1], self._buffer[idx + 1 :]
        self._line += out.count("\n")
        return out

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def readable(self) -> bool:
        return True


def text_lines(raw: BinaryIO) -> Iterator[str]:
    """Lines of a UTF-8 byte stream, BOM dropped, bad bytes reported with their line."""
    return iter(_LineCountingText(raw))


def check_header(header: list[str], expected: Iterable[str] = ()) -> list[str]:
    names = [h.strip() for h in header]
    if not any(names):
        raise FormatProblem("the first line must name the columns, but it is empty", line=1)
    for i, name in enumerate(names, start=1):
        if not name:
            raise FormatProblem(f"column {i} has no name in the header line", line=1)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise FormatProblem(f"column {name!r} appears twice in the header", line=1, column=name)
        seen.add(name)
    missing = [c for c in expected if c not in seen]
    if missing:
        raise FormatProblem(
            "the header lacks the column"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(repr(c) for c in missing)
            + " this dataset needs (it has "
            + ", ".join(repr(n) for n in names[:12])
            + (", …" if len(names) > 12 else "")
            + ")",
            line=1,
            column=missing[0],
        )
    return names


def iter_csv(
    lines: Iterable[str],
    *,
    expected_columns: Iterable[str] = (),
    summary: TableSummary | None = None,
) -> Iterator[dict[str, str]]:
    """Records of a CSV file: header first, every row as wide as the header.

    Quoted commas and newlines inside quotes are one field, as in RFC 4180.
    `summary` (when given) is kept up to date as rows are read.
    """
    reader = csv.reader(lines, strict=True)
    summary = summary or TableSummary(format="csv")
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise FormatProblem(f"the header line cannot be read as CSV ({e})", line=1) from None
    if header is None:
        raise FormatProblem("the file is empty")
    columns = check_header(header, expected_columns)
    summary.columns = columns
    width = len(columns)
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            msg = str(e)
            if "EOF" in msg or "end of data" in msg:
                msg = "a quoted field is never closed (a '\"' is missing)"
            raise FormatProblem(f"this row cannot be read as CSV: {msg}", line=start) from None
        line_no, start = start, reader.line_num + 1
        summary.lines = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if len(row) != width:
            raise FormatProblem(
                f"expected {width} values (like the header), found {len(row)}", line=line_no
            )
        summary.rows += 1
        yield dict(zip(columns, row, strict=True))


def _check_record(obj: Any, where: str, line: int | None) -> dict[str, Any]:
    if not isinstance(obj, dict):
        kind = {
            list: "a list",
            str: "a string",
            int: "a number",
            float: "a number",
            bool: "true/false",
            type(None): "null",
        }.get(type(obj), type(obj).__name__)
        raise FormatProblem(
            f"{where} is {kind}, but every record must be an object {{…}}", line=line
        )
    return obj


def _check_keys(record: dict[str, Any], expected: list[str], line: int | None) -> None:
    missing = [c for c in expected if c not in record]
    if missing:
        raise FormatProblem(
            "the record lacks the field"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(repr(c) for c in missing)
            + " this dataset needs",
            line=line,
            column=missing[0],
        )


def iter_ndjson(
    lines: Iterable[str],
    *,
    expected_columns: Iterable[str] = (),
    summary: TableSummary | None = None,
) -> Iterator[dict[str, Any]]:
    """One JSON object per line; blank lines are allowed."""
    expected = list(expected_columns)
    summary = summary or TableSummary(format="ndjson")
    for n, line in enumerate(lines, start=1):
        summary.lines = n
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise FormatProblem(f"invalid JSON: {e.msg} (at character {e.colno})", line=n) from None
        except (RecursionError, ValueError) as e:
            raise json_limit_problem(e, n) from None
        record = _check_record(obj, "this line", n)
        _check_keys(record, expected, n)
        if not summary.columns:
            summary.columns = list(record)
        summary.rows += 1
        yield record


def iter_json(
    text: str, *, expected_columns: Iterable[str] = (), summary: TableSummary | None = None
) -> Iterator[dict[str, Any]]:
    """A JSON array of objects (or one object): the whole document must parse."""
    expected = list(expected_columns)
    summary = summary or TableSummary(format="json")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise FormatProblem(
            f"invalid JSON: {e.msg} (at character {e.colno})", line=e.lineno
        ) from None
    except (RecursionError, ValueError) as e:
        raise json_limit_problem(e, None) from None
    summary.lines = text.count("\n") + 1
    items = doc if isinstance(doc, list) else [doc]
    for i, obj in enumerate(items, start=1):
        record = _check_record(obj, f"item {i} of the array", None)
        _check_keys(record, expected, None)
        if not summary.columns:
            summary.columns = list(record)
        summary.rows += 1
        yield record


def iter_records(
    raw: BinaryIO,
    fmt: Format,
    *,
    expected_columns: Iterable[str] = (),
    summary: TableSummary | None = None,
) -> Iterator[dict[str, Any]]:
    """Records of a whole file, streamed where the format allows (CSV, NDJSON)."""
    if fmt == "csv":
        return iter_csv(text_lines(raw), expected_columns=expected_columns, summary=summary)
    if fmt == "ndjson":
        return iter_ndjson(text_lines(raw), expected_columns=expected_columns, summary=summary)
    return iter_json(decode_utf8(raw.read()), expected_columns=expected_columns, summary=summary)


def summarize(
    raw: BinaryIO, filename: str, *, expected_columns: Iterable[str] = ()
) -> TableSummary:
    """Read a whole file, raising FormatProblem at the first problem; count its rows."""
    head = raw.read(64 * 1024)
    fmt = detect_format(head, filename, complete=len(head) < 64 * 1024)
    stream = _Rewound(head, raw)
    summary = TableSummary(format=fmt)
    for _ in iter_records(stream, fmt, expected_columns=expected_columns, summary=summary):
        pass
    if summary.rows == 0:
        raise FormatProblem(
            "the file has a header but no data rows" if fmt == "csv" else "the file has no records"
        )
    return summary


class _Rewound(io.RawIOBase):
    """Puts back the bytes read for sniffing in front of the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                out, self._head = self._head + self._rest.read(), b""
                return out
            out, self._head = self._head[:size], self._head[size:]
            return out
        return self._rest.read() if size is None or size < 0 else self._rest.read(size)


def rewound(head: bytes, rest: BinaryIO) -> BinaryIO:
    return _Rewound(head, rest)  # type: ignore[return-value]
