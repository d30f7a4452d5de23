"""Resource Groups Tagging API: every tag in a few pages, keyed back to resource names."""

from __future__ import annotations

from typing import Any

import pytest

from dashapp.aws import tagging
from tests.fixtures.aws import load


class _Stub:
    def __init__(self) -> None:
        self.kwargs: dict[str, Any] = {}

    def get_paginator(self, name: str) -> Any:
        assert name == "get_resources"
        stub = self

        class _P:
            def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
                stub.kwargs = kwargs
                return [load("get_resources"), {"ResourceTagMappingList": []}]

        return _P()


def test_tags_by_arn() -> None:
    stub = _Stub()
    tags = tagging.tags_by_arn(stub, ["glue:job", "lambda:function"])
    # All types in one listing, at the largest page size the API allows.
    assert stub.kwargs == {
        "ResourceTypeFilters": ["glue:job", "lambda:function"],
        "PaginationConfig": {"PageSize": 100},
    }
    assert tags == {
        "arn:aws:glue:us-east-1:123456789012:job/sales-orders-ingest": {
            "team": "sales-data",
            "dataset": "orders",
            "app": "serverless-pipeline",
        },
        "arn:aws:lambda:us-east-1:123456789012:function:smd-upload-validator": {
            "team": "platform",
            "cost-center": "",
        },
        "arn:aws:lambda:us-east-1:123456789012:function:smd-notifier": {"team": "platform"},
    }


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:glue:us-east-1:123456789012:job/sales-orders-ingest", "sales-orders-ingest"),
        ("arn:aws:lambda:us-east-1:123456789012:function:smd-notifier", "smd-notifier"),
        ("arn:aws:lambda:us-east-1:123456789012:function:smd-notifier:live", "smd-notifier"),
        ("arn:aws-cn:glue:cn-north-1:123456789012:job/a/b", "a/b"),
        ("arn:aws:glue:us-east-1:123456789012:trigger/nightly", "nightly"),
    ],
)
def test_name_from_arn(arn: str, name: str) -> None:
    assert tagging.name_from_arn(arn) == name
