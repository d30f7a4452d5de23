"""Small builders for CloudFormation values shared by both templates.

Why its own module: the core and datasets stacks write intrinsic functions in
their long form (``{"Ref": ...}``, so the YAML stays plain) and IAM policies
the same way; one definition keeps both templates consistent.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "TEMPLATE_VERSION",
    "arn",
    "assume_role",
    "import_value",
    "logical_id",
    "policy",
    "ref",
    "statement",
    "sub",
]

TEMPLATE_VERSION = "2010-09-09"


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def arn(resource: str, attr: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [resource, attr]}


def import_value(name: str) -> dict[str, Any]:
    return {"Fn::ImportValue": sub("${CoreStackName}-" + name)}


def logical_id(name: str) -> str:
    """A CloudFormation logical id from a dataset name ('web-clickstream' → 'WebClickstream')."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))


def statement(actions: list[str], resources: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def policy(name: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "PolicyName": name,
        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
    }


def assume_role(service: str | dict[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
