"""Glue run arguments as users type them: validated at the edge, one message per mistake.

A start or re-run form takes `--key=value` lines; Glue's reserved keys, malformed
keys and oversize values are refused before anything is claimed or started.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# Arguments Glue sets itself or forbids (AWS Glue "special parameters" docs).
RESERVED_KEYS = frozenset(
    {
        "--JOB_NAME",
        "--JOB_ID",
        "--JOB_RUN_ID",
        "--conf",
        "--debug",
        "--mode",
        "--SECURITY_CONFIGURATION",
    }
)
_KEY_RE = re.compile(r"^--[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_ARGUMENTS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 4096


class ArgumentError(ValueError):
    """User-supplied arguments are invalid; `problems` holds one message per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def validate_arguments(arguments: Mapping[str, Any]) -> dict[str, str]:
    """Glue run arguments as Glue accepts them, or ArgumentError naming every problem."""
    problems: list[str] = []
    if len(arguments) > MAX_ARGUMENTS:
        problems.append(f"at most {MAX_ARGUMENTS} arguments, not {len(arguments)}")
    out: dict[str, str] = {}
    for key, value in arguments.items():
        if not isinstance(key, str) or not _KEY_RE.match(key):
            problems.append(
                f"{key!r}: keys start with -- followed by letters, digits, '_', '.' or '-'"
            )
            continue
        if len(key) > MAX_KEY_LENGTH:
            problems.append(f"{key[:20]}…: keys are at most {MAX_KEY_LENGTH} characters")
            continue
        if key in RESERVED_KEYS:
            problems.append(f"{key} is set by Glue itself and cannot be passed")
            continue
        if not isinstance(value, str):
            problems.append(f"{key}: the value must be text")
            continue
        if len(value) > MAX_VALUE_LENGTH:
            problems.append(f"{key}: values are at most {MAX_VALUE_LENGTH} characters")
            continue
        if not _encodable(value):
            problems.append(f"{key}: the value holds a character that is not text; type it again")
            continue
        out[key] = value
    if problems:
        raise ArgumentError(problems)
    return out


def _encodable(value: str) -> bool:
    """A lone UTF-16 surrogate cannot be sent to Glue: boto3 would fail after the claim."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def parse_arguments(text: str | None) -> dict[str, str]:
    """`--key=value` lines (blank lines ignored) into validated arguments."""
    parsed: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep:
            problems.append(f"line {number}: write --key=value")
            continue
        if key in parsed:
            problems.append(f"line {number}: {key} is given twice")
            continue
        parsed[key] = value.strip()
    try:
        arguments = validate_arguments(parsed)
    except ArgumentError as e:
        problems.extend(e.problems)
    if problems:
        raise ArgumentError(problems)
    return arguments


def format_arguments(arguments: Mapping[str, str]) -> str:
    """The inverse of `parse_arguments`, for prefilling the editor."""
    return "\n".join(f"{k}={v}" for k, v in arguments.items())
