"""Lambda ListFunctions entries → lambda_functions rows; LastModified parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dashapp.aws import lambda_
from tests.fixtures.aws import load

NOW = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T09:15:42.123+0000", datetime(2026, 11, 20, 9, 15, 42, 123000, tzinfo=UTC)),
        ("2026-10-02T23:59:59.000+0000", datetime(2026, 10, 2, 23, 59, 59, tzinfo=UTC)),
        ("2026-11-20T09:15:42.123Z", datetime(2026, 11, 20, 9, 15, 42, 123000, tzinfo=UTC)),
        ("2026-11-20T09:15:42+00:00", datetime(2026, 11, 20, 9, 15, 42, tzinfo=UTC)),
        (
            "2026-11-20T10:15:42.000+0100",
            datetime(2026, 11, 20, 10, 15, 42, tzinfo=timezone(timedelta(hours=1))),
        ),
        (
            "2026-11-20T04:15:42.000-0500",
            datetime(2026, 11, 20, 9, 15, 42, tzinfo=UTC),
        ),
    ],
)
def test_parse_last_modified(value: str, expected: datetime) -> None:
    parsed = lambda_.parse_last_modified(value)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


@pytest.mark.parametrize("value", [None, ""])
def test_parse_last_modified_missing(value: str | None) -> None:
    assert lambda_.parse_last_modified(value) is None


def test_parse_function() -> None:
    fn = load("list_functions")["Functions"][0]
    row = lambda_.parse_function(fn, NOW, tags={"team": "platform"})
    assert row == {
        "name": "smd-upload-validator",
        "arn": "arn:aws:lambda:us-east-1:123456789012:function:smd-upload-validator",
        "runtime": "python3.12",
        "handler": "validator.handler",
        "description": "Checks uploaded files before ingestion",
        "memory_mb": 512,
        "timeout_s": 30,
        "architecture": "arm64",
        "code_size": 48213,
        "last_modified": datetime(2026, 11, 20, 9, 15, 42, 123000, tzinfo=UTC),
        "tags": {"team": "platform"},
        "first_seen_at": NOW,
        "last_seen_at": NOW,
        "gone_at": None,
    }


def test_parse_function_without_tags_or_architectures() -> None:
    fn = dict(load("list_functions")["Functions"][1])
    fn.pop("Architectures")
    row = lambda_.parse_function(fn, NOW, tags=None)
    assert row["architecture"] is None
    assert row["tags"] == {}
    assert row["runtime"] == "provided.al2023"
    assert row["description"] == ""


class _Paginator:
    def __init__(self, pages: list[dict[str, object]]) -> None:
        self.pages = pages

    def paginate(self, **_: object) -> list[dict[str, object]]:
        return self.pages


class _LambdaStub:
    def get_paginator(self, name: str) -> _Paginator:
        assert name == "list_functions"
        page = load("list_functions")
        return _Paginator([page, {"Functions": [dict(page["Functions"][0], FunctionName="x")]}])


def test_iter_functions_reads_every_page() -> None:
    names = [f["FunctionName"] for f in lambda_.iter_functions(_LambdaStub())]
    assert names == ["smd-upload-validator", "smd-notifier", "x"]
