"""Text as both databases can store and compare it, for every layer that writes text.

A NUL (PostgreSQL text and JSONB refuse it) or a lone UTF-16 surrogate (UTF-8, so
SQLite's driver, cannot carry it) becomes U+FFFD. Neither comes from a keyboard; both
come from crafted requests, broken files and, now and then, an AWS answer quoting a
program's output. Kept free of dependencies so the AWS parsers can use it too.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def storable_text(value: str) -> str:
    """`value` with every NUL and lone surrogate replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", value)
