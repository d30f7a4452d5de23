"""Lambda fidelity: ``ListFunctions`` pagination.

Why: moto's ``ListFunctions`` ignores ``MaxItems`` and ``Marker`` and returns
every function in one response.  AWS returns at most 50 functions a page
(``MaxItems`` 1-10,000 is accepted, but a page never holds more than 50) and a
``NextMarker`` to continue, so 1,000 functions take 20 pages.  The collector's
Lambda inventory must survive that, and the sandbox must make it visible.

Functions are listed in function-name order (then version), which makes the
opaque marker a stable cursor: functions created or deleted between pages
neither repeat nor vanish from the rest of the listing.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.responses import LambdaResponse

__all__ = ["MAX_PAGE_SIZE", "apply"]

#: AWS never returns more than 50 functions in one ListFunctions response.
MAX_PAGE_SIZE = 50
#: Upper bound AWS accepts for MaxItems (the page is still capped at 50).
MAX_ITEMS_LIMIT = 10_000


def _version_key(version: str) -> tuple[int, int]:
    # $LATEST first, then published versions numerically.
    return (0, 0) if version == "$LATEST" else (1, int(version) if version.isdigit() else 0)


def _sort_key(config: dict[str, Any]) -> list[Any]:
    return [config.get("FunctionName", ""), *_version_key(str(config.get("Version", "")))]


def _encode_marker(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_marker(marker: str) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(marker.encode()))
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameterValueException("Invalid Marker") from exc
    if not isinstance(key, list) or len(key) != 3:
        raise InvalidParameterValueException("Invalid Marker")
    return key


def _list_functions(self: LambdaResponse) -> str:
    """``ListFunctions`` with ``MaxItems``/``Marker``/``NextMarker`` as AWS pages it."""
    querystring = self.querystring
    func_version = querystring.get("FunctionVersion", [None])[0]
    raw_max = querystring.get("MaxItems", [None])[0]
    marker = querystring.get("Marker", [None])[0]
    max_items = MAX_PAGE_SIZE
    if raw_max is not None:
        try:
            max_items = int(raw_max)
        except ValueError as exc:
            raise InvalidParameterValueException("MaxItems must be an integer") from exc
        if not 1 <= max_items <= MAX_ITEMS_LIMIT:
            raise InvalidParameterValueException(
                f"1 validation error detected: Value '{max_items}' at 'maxItems' "
                f"failed to satisfy constraint: Member must have value between 1 "
                f"and {MAX_ITEMS_LIMIT}"
            )
    page_size = min(max_items, MAX_PAGE_SIZE)
    configs = sorted(
        (fn.get_configuration() for fn in self.backend.list_functions(func_version)),
        key=_sort_key,
    )
    if marker:
        after = _decode_marker(marker)
        configs = [c for c in configs if _sort_key(c) > after]
    page = configs[:page_size]
    result: dict[str, Any] = {"Functions": page}
    if len(configs) > page_size:
        result["NextMarker"] = _encode_marker(_sort_key(page[-1]))
    return json.dumps(result)


def apply() -> None:
    """Install the Lambda patch (idempotent)."""
    if getattr(LambdaResponse, "_sandbox_patched", False):
        return
    LambdaResponse.list_functions = _list_functions  # type: ignore[method-assign]
    LambdaResponse._sandbox_patched = True  # type: ignore[attr-defined]
