"""Tags of many resources in a few calls (Resource Groups Tagging API, 100 a page),
instead of one GetTags/ListTags call per job or function."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def tags_by_arn(client: Any, resource_types: Iterable[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    paginator = client.get_paginator("get_resources")
    for page in paginator.paginate(
        ResourceTypeFilters=list(resource_types), PaginationConfig={"PageSize": 100}
    ):
        for item in page.get("ResourceTagMappingList", []):
            out[item["ResourceARN"]] = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
    return out


def name_from_arn(arn: str) -> str:
    """`arn:aws:glue:…:job/NAME` → NAME; `arn:aws:lambda:…:function:NAME` → NAME."""
    if ":job/" in arn:
        return arn.split(":job/", 1)[1]
    if ":function:" in arn:
        return arn.split(":function:", 1)[1].split(":", 1)[0]
    return arn.rsplit("/", 1)[-1]
