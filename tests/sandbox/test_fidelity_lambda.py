"""Lambda ListFunctions pagination (in-process, ``mock_aws``).

Against plain moto ListFunctions returns every function in one page.
"""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.awslambda.utils import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

N_FUNCTIONS = 1000


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def _create(count: int) -> Any:
    """Seed functions through moto's backend (the API path costs ~5 ms a call; listing is under
    test).
    """
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda", region_name="us-east-1")
    client.create_function(
        FunctionName=f"fn-{count - 1:04d}",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )
    backend = get_backend(DEFAULT_ACCOUNT_ID, "us-east-1")
    code = base64.b64encode(_zip()).decode()
    # created in reverse so the listing order cannot come from insertion order
    for i in reversed(range(count - 1)):
        backend.create_function(
            {
                "FunctionName": f"fn-{i:04d}",
                "Runtime": "python3.12",
                "Role": role,
                "Handler": "handler.handler",
                "Code": {"ZipFile": code},
            }
        )
    return client


def test_list_functions_pages_50_at_a_time(aws: None) -> None:
    """AWS: ListFunctions returns at most 50 functions a page with NextMarker; 1,000 functions take
    20 pages.
    """
    functions = _create(N_FUNCTIONS)
    pages = list(functions.get_paginator("list_functions").paginate())
    assert len(pages) == 20
    assert all(len(p["Functions"]) == 50 for p in pages)
    assert all("NextMarker" in p for p in pages[:-1])
    assert "NextMarker" not in pages[-1]
    names = [f["FunctionName"] for p in pages for f in p["Functions"]]
    assert names == [f"fn-{i:04d}" for i in range(N_FUNCTIONS)]


def test_max_items_and_marker(aws: None) -> None:
    """AWS: MaxItems sets the page size (never above 50); Marker resumes after the previous page."""
    functions = _create(60)
    first = functions.list_functions(MaxItems=7)
    assert [f["FunctionName"] for f in first["Functions"]] == [f"fn-{i:04d}" for i in range(7)]
    second = functions.list_functions(MaxItems=7, Marker=first["NextMarker"])
    assert [f["FunctionName"] for f in second["Functions"]] == [f"fn-{i:04d}" for i in range(7, 14)]
    assert len(functions.list_functions(MaxItems=500)["Functions"]) == 50
    # a function deleted between pages neither breaks the marker nor repeats others
    functions.delete_function(FunctionName="fn-0007")
    third = functions.list_functions(MaxItems=3, Marker=first["NextMarker"])
    assert [f["FunctionName"] for f in third["Functions"]] == ["fn-0008", "fn-0009", "fn-0010"]
    with pytest.raises(ClientError) as err:
        functions.list_functions(Marker="not-a-marker")
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
