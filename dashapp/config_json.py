"""JSON read from one environment variable, with every way it can fail as a ValueError.

`describe_error` turns a validator's ValueError into the one line an operator reads; a
RecursionError (JSON nested past the interpreter's limit) would instead be a traceback
at start-up.
"""

from __future__ import annotations

import json
from typing import Any


def loads_setting(text: str) -> Any:
    """The JSON document `text`, or ValueError saying why it cannot be read."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON ({e.msg} at column {e.colno})") from e
    except RecursionError:
        raise ValueError("not readable JSON (nested too deeply)") from None
